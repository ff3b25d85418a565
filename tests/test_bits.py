"""Every number a training gives is pinned: SHA-256 of the runs table, final
parameters and curves of several configurations, in both dtypes, as the
kernels gave them before a change meant to alter no bit (a change of how the
code runs, not of what it computes). The kernels promise the same bits on any
machine (no FMA contraction, exp and log of their own, see kernels/config.py
and fastmath.py), so these digests hold everywhere. A change that alters
numbers on purpose says so and records the new digests
(`python tests/test_bits.py` prints them)."""

import hashlib

import numpy as np
import pytest

import engine

# Each configuration takes a different path through kernels/network.py:
# full batch (every lane takes sample q) and minibatches (each lane its own
# order), softmax of two and of three outputs, sigmoid outputs, both losses,
# sum and mean, dropout, target ε (with and without dropout), tanh and ReLU.
CONFIGS = {
    "job": dict(optimizer="adam", lr=0.01),
    "minibatch_dropout": dict(optimizer="adam", lr=0.02, batch_size=5, dropout=0.2, activation="tanh"),
    "sigmoid_squared_sum": dict(output="sigmoid", loss="squared", reduction="sum", lr=0.3, optimizer="momentum"),
    "relu_target": dict(activation="relu", init="he", lr=0.5, target_loss=0.2),
    "three_outputs": dict(optimizer="rmsprop", lr=0.01, batch_size=7, outputs=3),
    "three_outputs_squared": dict(loss="squared", lr=0.5, outputs=3),
    # full-batch dropout with a target: E(w_t) every epoch, in a block of lanes (the lane pass)
    "dropout_target": dict(
        optimizer="momentum", lr=0.3, dropout=0.2, activation="relu", init="he", target_loss=0.3, block_size=16
    ),
    "dropout_scaled_target": dict(
        lr=0.5, dropout=0.3, dropout_mode="scale", target_loss=0.4, activation="tanh", block_size=16
    ),
}
# the same, each run alone in a block of one lane (the per-run pass)
CONFIGS.update(
    {f"{name}_alone": {**CONFIGS[name], "block_size": 1} for name in ("dropout_target", "dropout_scaled_target")}
)

# Recorded at aea5f7e, before network.py's load_targets and j_max changed (no bit may).
EXPECTED = {
    "job float64": "af47e5034b9d8cb768c59b61b08f858779fcfdd1213b2d1d4155819e06ba0f73",
    "minibatch_dropout float64": "ebc9a3d56fcfa0d24f68c4bbb0f3d3a2f2561188d12c2124c33f1ae7411b488e",
    "sigmoid_squared_sum float64": "2858ba5ec68cc326cca9401354e9cb30372e6b4bd2cc77d528a3f99d884b5841",
    "relu_target float64": "520793d2623daf4e4f7fb1aeb19d8f8d8c6a8876a0ff40ddd24555e86cf4a59b",
    "three_outputs float64": "88a2378576ca276a76190bdb799636365ea7c1a40fa356020f4a66d2a077aa8c",
    "three_outputs_squared float64": "8ae3a646e216b2c3316b760ffd876fd63938929a6020816531f22e2ab4f8357e",
    "job float32": "0482aedb5457277e84bc53aefd1d6d010e0fe0d81630c6dcc1a22162141d96fe",
    "minibatch_dropout float32": "1495bfcdb274a34bf860550e42b49c2cb238bf585d7b9a2a0cb8575e05684522",
    "sigmoid_squared_sum float32": "517a95d82814f9117d7c15dc6ff518d7708804f81ad58de2a06d7d58423517d4",
    "relu_target float32": "ea599dda8f73e411586ab8b597525b44bfe51c7421c0f6a5012a2f409e64fe56",
    "three_outputs float32": "0876e83f39de740c129152f503ab77308f45ff5d8660a03d73feb143fb7f8fe8",
    "three_outputs_squared float32": "abad7ea487d00ac366a9e2756eb3d245dda59cb185de089e4fa50d2c88ada364",
    # recorded at d6e1bf7, before the dropout gradient pass measured E itself (no bit may change)
    "dropout_target float64": "8f2f0182c10487a47f152a49a0bcda4eb48b2b527901188423db5005a567e586",
    "dropout_target float32": "708ca39c9a4b33ebd42cbd2c2072d6a91e8084b48484c8f0f8373de58d2d9df1",
    "dropout_scaled_target float64": "1a36d5a8d43b3d6563a3c1efcf2d98246bc02c81a1c7a52fc1e227c0f4427bcd",
    "dropout_scaled_target float32": "9262cd26debf2607535a5514a92a601934ce131d64a28406dbc7a1cea32fe517",
    # recorded at fa2c266, before the per-run pass measured E in its dropout gradient pass (the lane pass's digests)
    "dropout_target_alone float64": "8f2f0182c10487a47f152a49a0bcda4eb48b2b527901188423db5005a567e586",
    "dropout_target_alone float32": "708ca39c9a4b33ebd42cbd2c2072d6a91e8084b48484c8f0f8373de58d2d9df1",
    "dropout_scaled_target_alone float64": "1a36d5a8d43b3d6563a3c1efcf2d98246bc02c81a1c7a52fc1e227c0f4427bcd",
    "dropout_scaled_target_alone float32": "9262cd26debf2607535a5514a92a601934ce131d64a28406dbc7a1cea32fe517",
}


def digest(name, dtype):
    """SHA-256 of every number one configuration's training gives (runs table, parameters, curves)."""
    settings = dict(CONFIGS[name])
    outputs = settings.pop("outputs", 2)
    data = engine.make_dataset(n_train=20, n_test=15, seed=4)
    T, T_test = data.T_train, data.T_test
    if outputs == 3:  # a third class: every third sample's target moved to it
        T, T_test = (np.c_[t, np.zeros(len(t))] for t in (T, T_test))
        for t in (T, T_test):
            t[::3] = (0.0, 0.0, 1.0)
    lr = settings.pop("lr") * np.geomspace(0.5, 2.0, 9)  # nine runs, each its own step size
    result = engine.train(
        data.X_train,
        T,
        np.arange(9),
        X_test=data.X_test,
        T_test=T_test,
        lr=lr,
        epochs=40,
        record_every=6,
        dtype=dtype,
        **settings,
    )
    h = hashlib.sha256()
    for table in (result.runs.drop(columns="seed"), result.curves):
        h.update(table.to_numpy(dtype=np.float64, na_value=np.nan).tobytes())
    h.update(np.ascontiguousarray(result.params).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("key", list(EXPECTED))
def test_every_number_is_as_recorded(key):
    name, dtype = key.split()
    assert digest(name, dtype) == EXPECTED[key]


if __name__ == "__main__":
    for key in EXPECTED:
        print(f'    "{key}": "{digest(*key.split())}",')
