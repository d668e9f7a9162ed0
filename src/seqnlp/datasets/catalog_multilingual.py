"""Registry entries of the Chinese and parallel data sets: SIGHAN 2005 (PKU, MSR), the
People's Daily 1998 corpus (PFR) and Multi30k German-English.

Every digest and size is copied from the `SOURCE.md` of the shared data folder and checked
against the files themselves by `tests/datasets/test_catalog.py`.
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

_ICWB2 = ("yuikns/icwb2-data", "873a51fa6234c644126d2f2c5c603a97809d2e49")

SIGHAN2005 = DatasetSpec(
    name="sighan2005",
    description="SIGHAN 2005 Chinese word segmentation, PKU + MSR test sets and word lists",
    license=(
        "Available for non-commercial use (bakeoff homepage); corpora by Peking University "
        "and Microsoft Research Asia. Cite Emerson (2005)."
    ),
    urls=(
        "http://sighan.cs.uchicago.edu/bakeoff2005/data/icwb2-data.zip",
        f"https://github.com/{_ICWB2[0]}/tree/{_ICWB2[1]}",
    ),
    files=(
        plain_file("pku_test", "pku_test.utf8",
                   "48c2655b535ea33802c873373f3176e57d39ba1a45a4dbba164e9125d7ce149e", 509_588,
                   github_source(*_ICWB2, "testing/pku_test.utf8")),
        plain_file("pku_test_gold", "pku_test_gold.utf8",
                   "913f78b20b17ea1e154f6246644d7d624b2710641f109a15daee9d63c9fb88d4", 718_331,
                   github_source(*_ICWB2, "gold/pku_test_gold.utf8")),
        plain_file("pku_training_words", "pku_training_words.utf8",
                   "68fdbcef065d315e5dc3dc4c0e1b68997b1849141ba93b8fa2325fb088b5b0f3", 490_217,
                   github_source(*_ICWB2, "gold/pku_training_words.utf8")),
        plain_file("msr_test", "msr_test.utf8",
                   "8068b0c5a8f309e2ff2ba88dc26de7a8dac2f2684c9c7d8094337d9ce272f601", 560_226,
                   github_source(*_ICWB2, "testing/msr_test.utf8")),
        plain_file("msr_test_gold", "msr_test_gold.utf8",
                   "cd1a8473841f1b2fcddd14d12599ad8872e6167feb64807af5bac2f6a32cb75d", 766_786,
                   github_source(*_ICWB2, "gold/msr_test_gold.utf8")),
        xz_file("msr_training_words", "msr_training_words.utf8.xz",
                "fd3730484d3e1ae891aed49f76b02b96ea28e60a08c7fd765027b884121918f4", 449_348,
                "d5328d5cc8576c8e008e70ad33882aae4ce2cbbbf6cd1130c59a66a248961b8c", 1_065_391,
                github_source(*_ICWB2, "gold/msr_training_words.utf8")),
    ),
    splits=(
        *split_sizes("sentences", ("pku_test", 1_944), ("pku_test_gold", 1_944),
                     ("msr_test", 3_985), ("msr_test_gold", 3_985)),
        *split_sizes("words", ("pku_test_gold", 104_372), ("pku_training_words", 55_303),
                     ("msr_test_gold", 106_873), ("msr_training_words", 88_119)),
    ),
    notes=(
        "The training files pku_training.utf8 (git blob "
        "1f4268102eda1de03165a8807a74200f54e20063) and msr_training.utf8 (git blob "
        "4ce7619c3dbe2380cc70c5c294d4d5add695f8f6) are not registered: no copy was "
        "available. For PKU training use `pfr1998` (same text, another segmentation "
        "revision); there is no substitute for MSR training."
    ),
)

PFR1998 = DatasetSpec(
    name="pfr1998",
    description="People's Daily Jan + Feb 1998, segmented (PKU standard); PKU training stand-in",
    license=(
        "Research use only (Institute of Computational Linguistics, Peking University, "
        "with Fujitsu); text copyright People's Daily. Cite Yu Shiwen et al. (2002)."
    ),
    urls=(
        "https://github.com/ZTurboX/CWS/tree/bb959b4166a3a35c545fa7a8d03a03714710ca65/data",
    ),
    files=(
        xz_file("1998-01", "pfr_199801.utf8.xz",
                "de1849ddd9637efc96c6c49ff4ba3d55109085d16fba2c3d153c4cf04f260023", 1_780_200,
                "1c54ed1a43bdb348b25fc99915d17e09afc65a35350f74a4626a7e9e6880cd46", 7_745_826,
                None),
        xz_file("1998-02", "pfr_199802.utf8.xz",
                "767856e014ee7b2856fa10c6c4fbc2df115373d9d92eedf7cd9050d8f80c52aa", 1_801_284,
                "f8238fe1ed74fefdba337f1a804e97a47afb9c04bf34ff535d8deb72e4aa1f46", 7_916_443,
                None),
    ),
    splits=(
        *split_sizes("paragraphs", ("1998-01", 19_484), ("1998-02", 18_845)),
        *split_sizes("words", ("1998-01", 1_120_721), ("1998-02", 1_149_581)),
    ),
    notes=(
        "Not the SIGHAN 2005 PKU training file: same text, revised segmentation. The files "
        "were rebuilt from the five cross-validation folds of the source repository, so no "
        "download serves these exact bytes: import them with "
        "`seqnlp data get pfr1998 --from FOLDER`."
    ),
)

_MULTI30K = ("multi30k/dataset", "a3d2e0d26b56f3846f66a952536ffed4e401d05a")


def _multi30k(name: str) -> Source:
    """The gzip-compressed raw file `data/task1/raw/NAME.gz` of the official repository."""
    return github_source(*_MULTI30K, f"data/task1/raw/{name}.gz", archive="gzip")


MULTI30K = DatasetSpec(
    name="multi30k",
    description="Multi30k Task 1 German-English image captions, raw text (29k/1k/1k pairs)",
    license=(
        "Non-commercial research and educational use (README; images under the Flickr "
        "Terms of Use). Cite Elliott, Frank, Sima'an & Specia (2016)."
    ),
    urls=(f"https://github.com/{_MULTI30K[0]}/tree/{_MULTI30K[1]}/data/task1/raw",),
    files=(
        xz_file("train.de", "train.de.xz",
                "ee032c015436b738db1e16a494eb6fd17f159a8f63e26f162ed7b95965f9cb1d", 456_184,
                "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72", 2_110_398,
                _multi30k("train.de")),
        xz_file("train.en", "train.en.xz",
                "ae0f9a6fd181a66eac7a428ec3a97756073e98cc267838a77599b592f9216687", 422_280,
                "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6", 1_801_238,
                _multi30k("train.en")),
        plain_file("val.de", "val.de",
                   "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660", 75_981,
                   _multi30k("val.de")),
        plain_file("val.en", "val.en",
                   "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227", 63_297,
                   _multi30k("val.en")),
        plain_file("test2016.de", "test_2016_flickr.de",
                   "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16", 70_649,
                   _multi30k("test_2016_flickr.de")),
        plain_file("test2016.en", "test_2016_flickr.en",
                   "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182", 62_076,
                   _multi30k("test_2016_flickr.en")),
    ),
    splits=(
        SplitSize("train", 29_000, "sentence pairs"),
        SplitSize("val", 1_014, "sentence pairs"),
        SplitSize("test2016", 1_000, "sentence pairs"),
    ),
)

MULTILINGUAL = (SIGHAN2005, PFR1998, MULTI30K)
