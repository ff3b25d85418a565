import numpy as np
import pytest

from engine.model.data import GLYPHS, glyphs, make_dataset


def test_glyphs_are_the_slides_patterns():
    assert (GLYPHS["C"] // 255).tolist() == [[0, 1, 1], [1, 0, 0], [1, 0, 0], [0, 1, 1]]
    X, T = glyphs()
    assert X.shape == (2, 12) and X.max() == 1.0 and T.tolist() == [[1, 0], [0, 1]]


def test_data_sets_are_deterministic_balanced_and_scaled():
    a, b = make_dataset(32, 100, seed=3), make_dataset(32, 100, seed=3)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_train, make_dataset(32, 100, seed=4).X_train)
    assert a.T_train.sum(0).tolist() == [16, 16]
    assert 0 <= a.X_train.min() and a.X_train.max() <= 1
    assert np.allclose(a.X_train * 255, np.rint(a.X_train * 255))  # integer pixels
    raw = make_dataset(8, 4, seed=3, scale=False)
    assert raw.X_train.max() > 1 and np.array_equal(raw.X_train / 255, make_dataset(8, 4, seed=3).X_train)


def test_training_set_does_not_depend_on_test_size():
    assert np.array_equal(make_dataset(16, 10).X_train, make_dataset(16, 500).X_train)


def test_noise_free_data_are_the_glyphs():
    d = make_dataset(6, 2, flip=0.0, noise=0.0)
    X, _ = glyphs()
    assert np.array_equal(d.X_train, X[d.T_train.argmax(1)])


@pytest.mark.parametrize(
    "kwargs, word",
    [({"n_train": 0}, "n_train"), ({"flip": 1.5}, "flip"), ({"noise": -1}, "noise"), ({"n_test": 2.5}, "n_test")],
)
def test_bad_data_settings_are_named(kwargs, word):
    with pytest.raises(ValueError, match=word):
        make_dataset(**kwargs)
