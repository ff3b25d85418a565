"""The network itself, in plain Python and numpy: the flat parameter layout
with the slides' names, the C/T data, initial weights, and the forward pass,
error and exact gradient that every fast path is checked against."""
