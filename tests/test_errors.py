"""Errors keep their one-line message, also when they come back from DataLoader worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from depthforge.errors import CheckpointError, ConfigError, DataError


class _Broken(Dataset):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> torch.Tensor:
        if index == 2:
            raise self.error
        return torch.zeros(1)


@pytest.mark.parametrize("error", [DataError(Path("frames/0002.png"), "truncated PNG (no IEND chunk)"),
                                   ConfigError("data.options.crop_h: expected an integer"),
                                   CheckpointError("model.pth: unexpected keys")])
def test_worker_errors_arrive_as_the_same_one_line(error: Exception) -> None:
    loader = DataLoader(_Broken(error), batch_size=1, num_workers=2)
    with pytest.raises(type(error)) as caught:
        list(loader)
    assert str(caught.value) == str(error)
    assert "\n" not in str(caught.value)


def test_data_error_fields() -> None:
    err = DataError("a/b.png", "8-bit PNG where a 16-bit depth PNG is expected")
    assert (err.path, err.problem) == ("a/b.png", "8-bit PNG where a 16-bit depth PNG is expected")
    assert str(err) == "a/b.png: 8-bit PNG where a 16-bit depth PNG is expected"
    assert str(DataError(None, "no file")) == "no file"


@pytest.mark.parametrize("error", [DataError("odd\nname.png", "corrupt PNG (bad CRC in its b'I\\nAT' chunk)"),
                                   ConfigError("key: value\r\nmore"), CheckpointError("a.pth\n"),
                                   DataError("odd\u2028name.png\n", "unreadable")])
def test_messages_with_line_breaks_stay_one_line(error: Exception) -> None:
    """A file name or a damaged file's bytes may hold line breaks; they are shown escaped."""
    text = str(error)
    assert len(text.splitlines()) == 1 and "\\n" in text
