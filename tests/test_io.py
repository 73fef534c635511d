"""User files load safely: no pickle, size limits, numeric content only."""
import io

import numpy as np
import pytest

from workbench.errors import FileLoadError
from workbench.io import load_array, load_array_with_columns, load_bytes


def _npy_bytes(arr, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_npy_npz_csv_roundtrip(tmp_path):
    a = np.arange(12.0).reshape(6, 2)
    np.save(tmp_path / "a.npy", a)
    np.testing.assert_array_equal(load_array(tmp_path / "a.npy"), a)
    np.savez(tmp_path / "b.npz", first=a, second=a * 2)
    np.testing.assert_array_equal(load_array(tmp_path / "b.npz"), a)
    np.testing.assert_array_equal(load_array(tmp_path / "b.npz", key="second"), a * 2)
    assert set(load_array(tmp_path / "b.npz", key="*")) == {"first", "second"}
    (tmp_path / "c.csv").write_text("u,v\n1,2\n3,4\n")
    np.testing.assert_array_equal(load_array(tmp_path / "c.csv"), [[1, 2], [3, 4]])
    (tmp_path / "d.csv").write_text("1.5,2\n3,4\n")
    np.testing.assert_array_equal(load_array(tmp_path / "d.csv"), [[1.5, 2], [3, 4]])


def test_pickled_object_array_is_refused():
    data = _npy_bytes(np.array([{"evil": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(FileLoadError, match="safely"):
        load_bytes(data, "evil.npy")


def test_pickled_member_of_npz_is_refused():
    buf = io.BytesIO()
    np.savez(buf, good=np.arange(3), evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileLoadError, match="pickled"):
        load_bytes(buf.getvalue(), "mixed.npz", key="evil")
    with pytest.raises(FileLoadError, match="pickled"):
        load_bytes(buf.getvalue(), "mixed.npz", key="*")


@pytest.mark.parametrize("name, payload, match", [
    ("x.csv", b"a,b\n1,hello\n2,3\n", "not numeric"),
    ("x.txt", b"1,2\n", "unsupported"),
    ("x.npy", b"not a numpy file", "not a valid"),
    ("x.npz", b"PK-not-a-zip", "not a valid"),
    ("x.csv", b"", "empty"),
    ("x.csv", b"\xff\xfe\x00garbage", "UTF-8"),
])
def test_bad_files(name, payload, match):
    with pytest.raises(FileLoadError, match=match):
        load_bytes(payload, name)


def test_size_limit(tmp_path):
    data = _npy_bytes(np.zeros(1000))
    with pytest.raises(FileLoadError, match="limit"):
        load_bytes(data, "big.npy", max_bytes=100)
    (tmp_path / "big.npy").write_bytes(data)
    with pytest.raises(FileLoadError, match="limit"):
        load_array(tmp_path / "big.npy", max_bytes=100)
    with pytest.raises(FileLoadError, match="no such file"):
        load_array(tmp_path / "missing.npy")


def test_csv_header_names(tmp_path):
    (tmp_path / "h.csv").write_text('a,"label",b\n1,0,2\n3,1,4\n')
    arr, names = load_array_with_columns(tmp_path / "h.csv")
    np.testing.assert_array_equal(arr, [[1, 0, 2], [3, 1, 4]])
    assert names == ["a", "label", "b"]
    (tmp_path / "n.csv").write_text("1,0,2\n3,1,4\n")
    arr, names = load_array_with_columns(tmp_path / "n.csv")
    assert names is None and arr.shape == (2, 3)
    np.save(tmp_path / "a.npy", np.zeros((2, 2)))
    assert load_array_with_columns(tmp_path / "a.npy")[1] is None
