"""The series' shares: balanced longest first, the same on every machine, and chosen as the job-array engines say."""
from __future__ import annotations

from pathlib import Path

import pytest

from publish.book.errors import SettingsError
from publish.series.catalogue import Volume
from publish.series.plan import chosen_share, divide


def volumes(*ids: str) -> list[Volume]:
    return [Volume(vid, vid, Path(vid)) for vid in ids]


def test_shares_are_dealt_longest_first_to_the_least_loaded():
    vols = volumes("a", "b", "c", "d", "e")
    sizes = {"a": 1, "b": 9, "c": 10, "d": 8, "e": 7}
    # 10 to share 1, 9 to 2, 8 to 2 (9 < 10), 7 to 1 (10 < 17), 1 to 1 (17 each, two volumes each: the lower number).
    shares = divide(vols, 2, sizes)
    assert [[v.id for v in share] for share in shares] == [["a", "c", "e"], ["b", "d"]]
    assert [sum(sizes[v.id] for v in share) for share in shares] == [18, 17]


def test_shares_hold_every_volume_once_and_spread_volumes_of_one_size():
    vols = volumes(*"abcdefg")
    shares = divide(vols, 3, dict.fromkeys("abcdefg", 0))
    assert sorted(v.id for share in shares for v in share) == list("abcdefg")
    assert sorted(len(share) for share in shares) == [2, 2, 3]
    assert divide(vols, 3, dict.fromkeys("abcdefg", 0)) == shares


@pytest.mark.parametrize("shard, shards, env, expected", [
    (None, None, {}, None),
    ("2/4", None, {"JOB_COMPLETION_INDEX": "0", "SLURM_ARRAY_TASK_ID": "3"}, (2, 4)),  # the command line first
    (None, 4, {"JOB_COMPLETION_INDEX": "0", "SLURM_ARRAY_TASK_ID": "3"}, (1, 4)),  # then Kubernetes
    (None, None, {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, (4, 4)),  # Slurm counts from 0
    (None, None, {"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_COUNT": "3"}, (3, 3)),
    (None, 8, {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"}, (3, 8)),  # --shards wins the count
])
def test_the_share_comes_from_the_command_line_then_the_engines(shard, shards, env, expected):
    assert chosen_share(shard, shards, env) == expected


@pytest.mark.parametrize("shard, shards, env, message", [
    ("0/4", None, {}, "a share is K/N, K from 1 to N"),
    ("5/4", None, {}, "a share is K/N, K from 1 to N"),
    ("2 of 4", None, {}, "a share is K/N"),
    (None, None, {"JOB_COMPLETION_INDEX": "2"}, "JOB_COMPLETION_INDEX=2 gives this machine's place but not how many"),
    (None, 2, {"JOB_COMPLETION_INDEX": "2"}, "a share is K/N, K from 1 to N"),
    (None, None, {"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"}, "SLURM_ARRAY_TASK_ID=x gives"),
])
def test_a_share_that_is_none_is_refused(shard, shards, env, message):
    with pytest.raises(SettingsError) as caught:
        chosen_share(shard, shards, env)
    assert str(caught.value).startswith(message)
