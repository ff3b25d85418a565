"""CSV text exactly as pandas' `DataFrame.to_csv(index=False)` writes it,
formatted by pyarrow's compute kernels: the tables of a million runs are
written in seconds instead of minutes, byte for byte as before.

pandas writes a float as Python's repr (shortest digits that read back the
same; fixed notation for 1e-4 <= |x| < 1e16, with a trailing ".0" on whole
numbers; otherwise 1e-05-style), NaN and missing values as nothing, booleans
as True/False. pyarrow's cast of a float to text gives the same shortest
digits but other notation rules, so fixed-notation numbers get their ".0"
here, and the few numbers Python writes otherwise (tiny, huge) are
formatted by numpy, which follows Python's repr.
"""

import csv
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROWS_PER_PIECE = 1 << 16  # rows formatted at once: bounds the text held in memory
FORMATTERS = 2  # threads formatting columns


def header(columns):
    """The header line pandas writes for these column names (quoted where needed: pandas
    writes it with the csv module too, at a DataFrame's cost of 3 ms a table)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(list(columns))
    return out.getvalue().encode()


def records(text):
    """Split CSV text into records (a quoted field may hold a newline)."""
    out, pending = [], None
    for line in text.split("\n")[:-1]:
        pending = line if pending is None else pending + "\n" + line
        if pending.count('"') % 2 == 0:
            out.append(pending)
            pending = None
    return out


def frame_records(frame):
    """One CSV record per row of a (small) DataFrame, as pandas writes them."""
    return records(frame.to_csv(index=False, header=False))


def float_text(values):
    """Float array -> pandas' text for each value ('' for NaN and missing)."""
    x = values.to_numpy(zero_copy_only=False)  # missing -> NaN
    if x.dtype != np.float64:  # float32's own shortest digits: numpy's text, the slow way
        return pa.array(np.where(np.isnan(x), "", x.astype(str)))
    text = pc.cast(pa.array(x), pa.string())
    size = np.abs(x)
    with np.errstate(invalid="ignore"):
        fixed = (size == 0) | ((size >= 1e-4) & (size < 1e16))  # where Python's repr is fixed
    fixed &= ~_contains(text, "e")  # ... and pyarrow's is too
    whole = fixed & ~_contains(text, ".")
    if whole.any():
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, pa.scalar(".0"), ""), text)
    other = np.isfinite(x) & ~fixed
    if other.any():
        text = pc.replace_with_mask(text, pa.array(other), pa.array(x[other].astype(str)))
    return pc.if_else(pa.array(np.isnan(x)), pa.scalar(""), text)  # pandas' na_rep


def _contains(text, pattern):
    return pc.match_substring(text, pattern).to_numpy(zero_copy_only=False)


def quoted(values):
    """Text values quoted as Python's csv module does for pandas (QUOTE_MINIMAL)."""
    unique = pc.unique(values).to_pylist()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    forms = []
    for value in unique:
        out.seek(0)
        out.truncate()
        writer.writerow(["", value])  # two fields: a lone empty field is written as ""
        forms.append(out.getvalue()[1:-1])
    return pc.take(pa.array(forms, pa.string()), pc.index_in(values, pa.array(unique, values.type)))


def column_text(values):
    """An Arrow column -> pandas' CSV text of each value."""
    kind = values.type
    if pa.types.is_floating(kind):
        return float_text(values)
    if pa.types.is_boolean(kind):
        text = pc.if_else(values, pa.scalar("True"), pa.scalar("False"))
    elif pa.types.is_integer(kind):
        text = pc.cast(values, pa.string())
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = quoted(pc.cast(values, pa.string()))
    else:
        raise TypeError(f"no CSV text for Arrow type {kind}")
    return pc.fill_null(text, "")


class Text:
    """A column that is CSV text already (e.g. records of a small frame)."""

    def __init__(self, array):
        self.array = array

    def slice(self, start, length):
        return Text(self.array.slice(start, length))

    def __len__(self):
        return len(self.array)


def write_rows(file, columns):
    """Write rows, given as equal-length Arrow arrays (values) or Text
    (ready text), to an open binary file."""
    n = len(columns[0]) if columns else 0
    # the columns formatted on two threads (pyarrow's kernels release the GIL): tables are
    # written while no training runs, and one thread left the second core idle
    with ThreadPoolExecutor(FORMATTERS) as pool:
        for start in range(0, n, ROWS_PER_PIECE):
            piece = list(pool.map(piece_text, (c.slice(start, ROWS_PER_PIECE) for c in columns)))
            write_lines(file, piece)


def piece_text(column):
    """A slice of a column as CSV text (large_string)."""
    return pc.cast(column.array if isinstance(column, Text) else column_text(column), pa.large_string())


def write_lines(file, piece):
    """Join the text columns of a piece into CSV lines and write them."""
    comma, newline, empty = (pa.scalar(s, pa.large_string()) for s in (",", "\n", ""))
    lines = pc.binary_join_element_wise(*piece, comma)
    lines = pc.binary_join_element_wise(lines, empty, newline)  # line + "\n" + ""
    offsets, data = lines.buffers()[1:]
    first, last = np.frombuffer(offsets, np.int64)[[lines.offset, lines.offset + len(lines)]]
    file.write(memoryview(data)[first:last])
