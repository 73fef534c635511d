"""User files load safely: no pickle, size limits, numeric content only."""
import io
import tracemalloc
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

import workbench.io
from workbench import lab
from workbench.errors import FileLoadError
from workbench.io import MAX_CSV_COLUMNS, MB, load_array, load_array_with_columns, load_bytes


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


# --- decompression bombs, truncated and malformed files -------------------------------------

def _header(shape, descr="<f8", fortran=False, version=(1, 0)) -> bytes:
    buf = io.BytesIO()
    write = {(1, 0): npy_format.write_array_header_1_0,
             (2, 0): npy_format.write_array_header_2_0}[version]
    write(buf, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return buf.getvalue()


def _zip(members: dict[str, tuple[bytes, int]]) -> bytes:
    """An .npz whose members are ``name: (leading bytes, count of zero bytes after them)``;
    the zeros are streamed through the compressor, never held in memory at once."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (head, zeros) in members.items():
            with zf.open(name, "w", force_zip64=True) as member:
                member.write(head)
                chunk = bytes(MB)
                while zeros:
                    member.write(chunk[:min(zeros, MB)])
                    zeros -= min(zeros, MB)
    return buf.getvalue()


class _ReadSpy:
    """Counts the bytes decompressed from zip members."""

    def __init__(self, monkeypatch):
        self.total = 0
        real = zipfile.ZipExtFile.read

        def read(stream, n=-1):
            out = real(stream, n)
            self.total += len(out)
            return out
        monkeypatch.setattr(zipfile.ZipExtFile, "read", read)


def test_npz_bomb_is_refused_from_its_header_before_decompressing(monkeypatch):
    # 16 MB of zeros compress to ~16 KB; the limit is 1 MB
    bomb = _zip({"x.npy": (_header((2 * MB,)), 16 * MB)})
    assert len(bomb) < 100_000
    spy = _ReadSpy(monkeypatch)
    tracemalloc.start()
    try:
        with pytest.raises(FileLoadError, match=r"\[x\].* is 16.0 MB, over the 1.0 MB limit"):
            load_bytes(bomb, "bomb.npz", max_bytes=MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert spy.total < 1000  # at most the .npy header was decompressed
    assert peak < MB
    with pytest.raises(FileLoadError, match="over the 1.0 MB limit"):  # the Lab's parser
        lab.load_xy(bomb, "bomb.npz", quantity="entropy", max_bytes=MB)
    assert spy.total < 2000


def test_npz_member_whose_header_declares_a_huge_shape_is_refused(monkeypatch):
    spy = _ReadSpy(monkeypatch)
    huge = _zip({"x.npy": (_header((2 ** 40, 8)), 0)})  # 64 TiB declared, header only
    with pytest.raises(FileLoadError, match=r"declared shape \(1099511627776, 8\).* limit"):
        load_bytes(huge, "huge.npz")
    assert spy.total < 1000


def test_npz_member_with_a_small_header_but_large_declared_size_is_refused():
    junk = _zip({"x.npy": (_header((10,)) + bytes(80), 2 * MB)})  # 2 MB of trailing junk
    with pytest.raises(FileLoadError, match="declared uncompressed size.* over the 1.0 MB"):
        load_bytes(junk, "junk.npz", max_bytes=MB)


def test_only_the_npz_members_asked_for_are_read(monkeypatch):
    a, b = np.arange(6.0).reshape(3, 2), np.arange(3)
    data = _zip({"x.npy": (_npy_bytes(a), 0), "y.npy": (_npy_bytes(b), 0),
                 "junk.npy": (_header((2 ** 40,)), 0)})
    np.testing.assert_array_equal(load_bytes(data, "d.npz"), a)
    both = load_bytes(data, "d.npz", key=("x", "y"))
    assert set(both) == {"x", "y"} and np.array_equal(both["y"], b)
    with pytest.raises(FileLoadError, match=r"'d.npz'\[junk\].* limit"):
        load_bytes(data, "d.npz", key="*")
    with pytest.raises(FileLoadError, match="has no array 'z'"):
        load_bytes(data, "d.npz", key=("x", "z"))
    # the Lab reads x and y only
    x, y = lab.load_xy(data, "d.npz")
    np.testing.assert_array_equal(x, a)
    np.testing.assert_array_equal(y, b)
    x, y = lab.load_xy(data, "d.npz", quantity="entropy")
    assert y is None and np.array_equal(x, a)


def test_the_limit_bounds_the_arrays_read_from_one_npz_in_total():
    part = _npy_bytes(np.zeros(80_000))  # 640 KB each, 1.28 MB together
    data = _zip({"a.npy": (part, 0), "b.npy": (part, 0)})
    assert load_bytes(data, "two.npz", key="a", max_bytes=MB).shape == (80_000,)
    with pytest.raises(FileLoadError, match=r"\[b\].* limit"):
        load_bytes(data, "two.npz", key="*", max_bytes=MB)


def test_npy_declared_size_is_checked_against_the_limit_and_the_file_length():
    with pytest.raises(FileLoadError, match=r"declared shape \(1099511627776,\).* limit"):
        load_bytes(_header((2 ** 40,)), "huge.npy")
    with pytest.raises(FileLoadError, match="over the 1.0 MB limit"):
        load_bytes(_header((200_000,)) + bytes(1000), "big.npy", max_bytes=MB)
    with pytest.raises(FileLoadError, match=r"truncated: .* \(800 bytes\) but only 400 bytes"):
        load_bytes(_header((100,)) + bytes(400), "short.npy")


def _structured():
    return _npy_bytes(np.zeros(3, dtype=[("a", "<f8"), ("b", "<i4")]))


@pytest.mark.parametrize("name, make, match", [
    ("truncated data", lambda: _npy_bytes(np.arange(100.0))[:-40], "is truncated: its header"),
    ("truncated header", lambda: _npy_bytes(np.arange(100.0))[:30],
     "truncated: it ends inside its .npy header"),
    ("cut after magic", lambda: b"\x93NUMPY\x01", "truncated: it ends inside its .npy header"),
    ("malformed header", lambda: _header((3,))[:10] + b"{garbage" + _header((3,))[18:],
     "malformed .npy header"),
    ("negative shape", lambda: _header((-1, 3)) + bytes(64), "negative dimension"),
    ("structured dtype", _structured, "structured dtype"),
    ("subarray dtype", lambda: _header((2,), descr=[("", "<f8", (2,))]) + bytes(32),
     "structured dtype"),
    ("text dtype", lambda: _npy_bytes(np.array(["a", "b"])), "non-numeric dtype <U1"),
    ("format 3.0", lambda: b"\x93NUMPY\x03\x00" + _header((1,))[8:], "version 3.0"),
])
def test_each_bad_npy_gets_its_real_reason(name, make, match):
    with pytest.raises(FileLoadError, match=match) as info:
        load_bytes(make(), "x.npy")
    assert "pickled" not in str(info.value) and "\n" not in str(info.value)
    # the same reason for an .npz member
    with pytest.raises(FileLoadError, match=match):
        load_bytes(_zip({"m.npy": (make(), 0)}), "x.npz")


def test_fortran_order_and_big_endian_npy_round_trip():
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(load_bytes(_npy_bytes(a), "f.npy"), a)
    b = np.arange(5, dtype=">i4")
    np.testing.assert_array_equal(load_bytes(_npy_bytes(b), "b.npy"), b)
    assert load_bytes(_npy_bytes(np.zeros((0, 3))), "e.npy").shape == (0, 3)


def test_bad_npz_members_get_their_real_reason():
    with pytest.raises(FileLoadError, match=r"\[notes.txt\] is not a .npy array"):
        load_bytes(_zip({"notes.txt": (b"hello", 0)}), "x.npz")
    data = bytearray(_zip({"x.npy": (_npy_bytes(np.arange(1000.0)), 0)}))
    start = data.index(b"x.npy") + len("x.npy") + 20  # inside the compressed data
    data[start:start + 50] = b"\xff" * 50
    with pytest.raises(FileLoadError, match=r"\[x\] (could not be read|.*truncated|.*malformed)"):
        load_bytes(bytes(data), "x.npz")


def test_npz_with_too_many_members_is_refused_before_its_directory_is_parsed(monkeypatch):
    monkeypatch.setattr(workbench.io, "MAX_NPZ_MEMBERS", 50)
    data = _zip({f"a{i}.npy": (_npy_bytes(np.zeros(1)), 0) for i in range(51)})
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("the zip was opened"))
    with pytest.raises(FileLoadError, match="up to 51 members, over the cap of 50"):
        load_bytes(data, "many.npz")


# --- wide CSV files ----------------------------------------------------------------------------

def test_too_wide_csv_is_refused_before_parsing(monkeypatch):
    import pandas as pd

    def no_parse(*args, **kwargs):
        raise AssertionError("the CSV was parsed")
    monkeypatch.setattr(pd, "read_csv", no_parse)
    row = ",".join(["1"] * (MAX_CSV_COLUMNS + 1))
    with pytest.raises(FileLoadError, match=f"{MAX_CSV_COLUMNS + 1:,} columns, over the cap"):
        load_bytes(f"{row}\n{row}\n{row}\n".encode(), "wide.csv")


def test_csv_with_too_many_cells_is_refused_before_parsing(monkeypatch):
    import pandas as pd

    monkeypatch.setattr(workbench.io, "MAX_CSV_CELLS", 100)
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: pytest.fail("the CSV was parsed"))
    text = "\n".join(["1,2,3,4,5"] * 30)  # 150 cells
    with pytest.raises(FileLoadError, match="30 rows x 5 columns, over the cap of 100 cells"):
        load_bytes(text.encode(), "tall.csv")


def test_ragged_csv_gets_one_line():
    with pytest.raises(FileLoadError, match="not a valid CSV") as info:
        load_bytes(b"1,2\n3,4\n5,6,7,8\n", "ragged.csv")
    assert "\n" not in str(info.value)


# --- the same protections on the CLI's paths ---------------------------------------------------

@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    n = 64 * MB  # over the CLI's 50 MB default limit, ~64 KB on disk
    (root / "bomb.npz").write_bytes(_zip({"x.npy": (_header((n // 8,)), n)}))
    row = ",".join(["1"] * (MAX_CSV_COLUMNS + 1))
    (root / "wide.csv").write_text(f"{row}\n{row}\n{row}\n")
    (root / "short.npy").write_bytes(_npy_bytes(np.arange(100.0))[:-40])
    np.save(root / "ok.npy", np.arange(200) % 5)
    return root


@pytest.mark.parametrize("cmd, nfiles", [("entropy", 1), ("mi", 2), ("cmi", 3)])
@pytest.mark.parametrize("bad, match", [("bomb.npz", "over the 50.0 MB limit"),
                                        ("wide.csv", "columns, over the cap"),
                                        ("short.npy", "is truncated")])
def test_cli_refuses_bad_files_with_exit_2_and_one_line(bad_files, capsys, cmd, nfiles, bad,
                                                        match):
    from workbench.cli import main

    files = [str(bad_files / "ok.npy")] * (nfiles - 1) + [str(bad_files / bad)]
    assert main([cmd, *files, "--method", "plugin"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("workbench: error: ") and match in err
