"""LinearChainCRF against brute force over all K^T tag sequences."""

from __future__ import annotations

import itertools

import pytest
import torch

from seqnlp.nn.crf import LinearChainCRF
from seqnlp.text.transitions import allowed_transitions

pytestmark = pytest.mark.usefixtures("one_thread")


def random_crf(k: int, seed: int, **constraints: torch.Tensor) -> LinearChainCRF:
    torch.manual_seed(seed)
    crf = LinearChainCRF(k, **constraints).double()
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def path_score(crf: LinearChainCRF, emissions: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    """s(path) written out position by position, with the constraint penalties."""
    transitions, start, end = crf._scores()
    total = start[path[0]] + emissions[0, path[0]]
    for t in range(1, len(path)):
        total = total + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    return total + end[path[-1]]


def all_paths(k: int, length: int) -> list[tuple[int, ...]]:
    return list(itertools.product(range(k), repeat=length))


def padded_batch(k: int, lengths: list[int], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    emissions = torch.randn(len(lengths), max(lengths), k, generator=generator, dtype=torch.double)
    mask = torch.arange(max(lengths)).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    return emissions, mask


LENGTHS = [4, 1, 3, 2]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_log_partition_equals_the_brute_force_sum(k: int) -> None:
    crf = random_crf(k, seed=k)
    emissions, mask = padded_batch(k, LENGTHS, seed=1)
    log_z = crf.log_partition(emissions, mask)
    for b, length in enumerate(LENGTHS):
        scores = torch.stack([path_score(crf, emissions[b, :length], p) for p in all_paths(k, length)])
        assert torch.allclose(log_z[b], torch.logsumexp(scores, 0), atol=1e-10)


def test_probabilities_of_all_paths_sum_to_one_and_score_matches() -> None:
    k, length = 3, 4
    crf = random_crf(k, seed=7)
    emissions, mask = padded_batch(k, [length], seed=2)
    paths = torch.tensor(all_paths(k, length))
    batch = emissions.expand(len(paths), -1, -1)
    log_p = crf.log_likelihood(batch, paths, mask.expand(len(paths), -1))
    assert torch.allclose(log_p.exp().sum(), torch.tensor(1.0, dtype=torch.double), atol=1e-10)
    for i in (0, 17, 80):
        assert torch.allclose(crf.score(emissions, paths[i : i + 1], mask)[0],
                              path_score(crf, emissions[0], tuple(paths[i].tolist())))


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_equals_the_exhaustive_argmax(seed: int) -> None:
    k = 3
    crf = random_crf(k, seed=seed)
    emissions, mask = padded_batch(k, LENGTHS, seed=seed + 10)
    tags, scores = crf.decode(emissions, mask)
    for b, length in enumerate(LENGTHS):
        paths = all_paths(k, length)
        scores_b = torch.stack([path_score(crf, emissions[b, :length], p) for p in paths])
        best = paths[int(scores_b.argmax())]
        assert tuple(tags[b, :length].tolist()) == best
        assert torch.allclose(scores[b], scores_b.max())
        assert tags[b, length:].eq(0).all()


def test_masked_positions_change_nothing() -> None:
    k = 4
    crf = random_crf(k, seed=3)
    emissions, mask = padded_batch(k, LENGTHS, seed=4)
    gold = torch.randint(0, k, mask.shape, generator=torch.Generator().manual_seed(5))
    changed_emissions = emissions.masked_fill(~mask.unsqueeze(2), 1e3)
    changed_gold = gold.masked_fill(~mask, k - 1)
    assert torch.allclose(crf(emissions, gold, mask, reduction="none"),
                          crf(changed_emissions, changed_gold, mask, reduction="none"))
    assert torch.equal(crf.decode(emissions, mask)[0], crf.decode(changed_emissions, mask)[0])
    for b, length in enumerate(LENGTHS):  # each sentence alone, unpadded, gives the same
        alone = emissions[b : b + 1, :length]
        assert torch.allclose(crf.log_partition(alone)[0], crf.log_partition(emissions, mask)[b])
        assert torch.equal(crf.decode(alone)[0][0], crf.decode(emissions, mask)[0][b, :length])


def test_gradients_match_finite_differences() -> None:
    crf = random_crf(3, seed=11)
    emissions, mask = padded_batch(3, [3, 2], seed=12)
    emissions.requires_grad_(True)
    gold = torch.tensor([[0, 2, 1], [1, 1, 0]])
    assert torch.autograd.gradcheck(lambda e: crf(e, gold, mask, reduction="sum"), (emissions,))


def test_marginals_from_autograd_sum_to_one_per_position() -> None:
    """d log Z / d emission[t, k] is the marginal p(y_t = k): each position's sum is 1."""
    crf = random_crf(3, seed=2)
    emissions, mask = padded_batch(3, LENGTHS, seed=3)
    emissions.requires_grad_(True)
    crf.log_partition(emissions, mask).sum().backward()
    sums = emissions.grad.sum(2)
    assert torch.allclose(sums[mask], torch.ones(int(mask.sum()), dtype=torch.double))
    assert torch.allclose(sums[~mask], torch.zeros(int((~mask).sum()), dtype=torch.double))


SCHEME_TAGS = {
    "bmes": ["B", "M", "E", "S"],
    "bio": ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
    "iob1": ["O", "I-PER", "B-PER", "I-LOC", "B-LOC"],
    "bioes": ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"],
}


@pytest.mark.parametrize("scheme", sorted(SCHEME_TAGS))
def test_constrained_decoding_never_outputs_a_forbidden_transition(scheme: str) -> None:
    tags = SCHEME_TAGS[scheme]
    rules = allowed_transitions(tags, scheme)
    allowed = torch.tensor(rules.allowed)
    crf = LinearChainCRF(len(tags), allowed, torch.tensor(rules.start), torch.tensor(rules.end))
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 12, (200,), generator=generator)
    emissions = 5 * torch.randn(200, 11, len(tags), generator=generator)  # strong, random
    mask = torch.arange(11).unsqueeze(0) < lengths.unsqueeze(1)
    decoded, _ = crf.decode(emissions, mask)
    for row, length in zip(decoded.tolist(), lengths.tolist()):
        path = row[:length]
        assert rules.start[path[0]] and rules.end[path[-1]], (scheme, path)
        assert all(rules.allowed[a][b] for a, b in zip(path, path[1:])), (scheme, path)


def test_unconstrained_decoding_does_use_forbidden_moves_on_the_same_data() -> None:
    """The constrained test above can fail: without constraints the same emissions decode
    to forbidden BMES moves."""
    rules = allowed_transitions(SCHEME_TAGS["bmes"], "bmes")
    crf = LinearChainCRF(4)
    emissions = 5 * torch.randn(200, 11, 4, generator=torch.Generator().manual_seed(0))
    decoded, _ = crf.decode(emissions)
    bad = sum(not rules.allowed[a][b] for row in decoded.tolist() for a, b in zip(row, row[1:]))
    assert bad > 0


def test_bmes_rules() -> None:
    rules = allowed_transitions(["B", "M", "E", "S", "<pad>"], "bmes")
    follows = {(a, b) for a, row in zip("BMES", rules.allowed) for b, ok in zip("BMES", row) if ok}
    assert follows == {("B", "M"), ("B", "E"), ("M", "M"), ("M", "E"), ("E", "B"), ("E", "S"),
                       ("S", "B"), ("S", "S")}
    assert rules.start == [True, False, False, True, False]
    assert rules.end == [False, False, True, True, False]


def test_bad_shapes_and_masks_are_refused() -> None:
    crf = LinearChainCRF(3)
    with pytest.raises(ValueError, match="emissions must be"):
        crf.decode(torch.zeros(2, 4, 5))
    with pytest.raises(ValueError, match="prefix"):
        crf.decode(torch.zeros(1, 3, 3), torch.tensor([[True, False, True]]))
    with pytest.raises(ValueError, match="constraint table"):
        LinearChainCRF(3, torch.ones(2, 2, dtype=torch.bool))
