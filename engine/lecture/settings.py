"""The settings of the lecture tools.

The slides' own setting: sigmoid hidden units, outputs z = a(s^O) with the
same sigmoid, squared error, E = Σ_p e_p. nn47 train defaults differ
(softmax, cross-entropy, mean), so the lecture tools name theirs here."""

SLIDE_DEFAULTS = {"activation": "sigmoid", "output": "sigmoid", "loss": "squared", "reduction": "sum"}

# The settings a workbook writes into its formulas (the others shape training only).
WORKBOOK_SETTINGS = ("lr", "activation", "output", "loss", "reduction", "weight_decay", "decay_thresholds")
