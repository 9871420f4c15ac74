"""Sample quality scores: the calibrated digit classifier and its confident share."""

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jinvnet import data
from jinvnet.train import sample_check, sample_score


def _untrained(num_bins=17, image_shape=(8, 8, 1), temperature=1.0):
    module = sample_score.DigitClassifier(features=(4, 4))
    params = module.init(jax.random.PRNGKey(0), jnp.zeros((1, *image_shape)))
    return sample_score.Classifier(
        params=params["params"],
        temperature=temperature,
        num_bins=num_bins,
        image_shape=image_shape,
        features=(4, 4),
    )


def test_score_counts_confident_rows_and_their_labels():
    probabilities = np.array(
        [
            [0.95, 0.05, 0.0],  # confident 0
            [0.5, 0.5, 0.0],  # not confident
            [0.0, 0.05, 0.95],  # confident 2
            [0.0, 0.0, 0.9],  # confident 2: the threshold is inclusive
            [0.0, 0.0, 0.0],  # a non-finite sample: never confident
        ]
    )
    result = sample_score.score(probabilities)
    assert result.num_images == 5 and result.confident == 3
    assert result.label_counts == (1, 0, 2)
    assert result.labels_present == 2
    assert result.confident_share == pytest.approx(0.6, abs=1e-12)
    assert result.as_dict("sample_score_T0.7") == {
        "sample_score_T0.7_confident_share": 0.6,
        "sample_score_T0.7_labels_present": 2,
        "sample_score_T0.7_label_counts": [1, 0, 2],
    }
    assert "60.0% of 5 classified with confidence >= 0.9" in result.describe()


def test_score_raises_if_not_a_matrix():
    with pytest.raises(ValueError, match=r"\(num_images, num_classes\)"):
        sample_score.score(np.zeros(3))


def test_fit_temperature_recovers_the_temperature_labels_were_drawn_at():
    # Labels drawn from softmax(l / 2.5): the NLL-optimal temperature is about 2.5.
    rng = np.random.default_rng(0)
    logits = 3.0 * rng.standard_normal((40_000, 10))
    p = np.exp(logits / 2.5)
    p /= p.sum(1, keepdims=True)
    labels = (rng.random((len(p), 1)) > np.cumsum(p, 1)).sum(1)
    assert sample_score.fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.03)


def test_sample_probabilities_quantise_to_the_pixels_and_zero_non_finite_samples():
    classifier = _untrained()
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 17, (6, 8, 8, 1))
    # Dequantised samples x = (k + u) / num_bins - 1/2 fall back on the same k.
    x = (pixels + rng.uniform(0, 0.999, pixels.shape)) / 17 - 0.5
    x[5, 3, 3, 0] = np.nan
    expected = classifier.pixel_probabilities(pixels)
    got = classifier.sample_probabilities(x)
    np.testing.assert_allclose(got[:5], expected[:5], rtol=1e-6)
    np.testing.assert_array_equal(got[5], 0.0)
    np.testing.assert_allclose(expected.sum(1), 1.0, rtol=1e-5)
    # Out-of-range samples clip to the extreme levels.
    np.testing.assert_allclose(
        classifier.sample_probabilities(np.full((1, 8, 8, 1), 9.0)),
        classifier.pixel_probabilities(np.full((1, 8, 8, 1), 16)),
        rtol=1e-6,
    )


def test_temperature_divides_the_logits():
    hot, cold = _untrained(temperature=4.0), _untrained(temperature=1.0)
    pixels = np.random.default_rng(2).integers(0, 17, (3, 8, 8, 1))
    logits = np.log(cold.pixel_probabilities(pixels))
    expected = np.exp(logits / 4.0)
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(hot.pixel_probabilities(pixels), expected, rtol=1e-4)


def test_save_and_load_round_trip(tmp_path):
    classifier = _untrained()
    path = str(tmp_path / "c.npz")
    sample_score.save(classifier, path)
    loaded = sample_score.load(path)
    assert loaded.image_shape == (8, 8, 1) and loaded.features == (4, 4)
    assert loaded.num_bins == 17 and loaded.temperature == 1.0
    jax.tree_util.tree_map(
        np.testing.assert_array_equal, loaded.params, classifier.params
    )


def test_train_classifier_learns_digits_far_above_the_majority_class():
    dataset = data.load("digits")
    train = dataset.train.get(np.arange(len(dataset.train)))
    test = dataset.test.get(np.arange(len(dataset.test)))
    classifier = sample_score.train_classifier(
        train["image"],
        train["label"],
        17,
        key=jax.random.PRNGKey(0),
        num_steps=300,
        learning_rate=3e-3,
    )
    accuracy = np.mean(
        classifier.pixel_probabilities(test["image"]).argmax(1) == test["label"]
    )
    majority = np.bincount(test["label"]).max() / len(test["label"])
    assert majority < 0.15 and accuracy > 0.8
    assert classifier.image_shape == (8, 8, 1) and 0 < classifier.temperature < 16


def test_train_classifier_raises_if_nothing_is_held_out():
    with pytest.raises(ValueError, match="held out"):
        sample_score.train_classifier(
            np.zeros((4, 8, 8, 1)),
            np.zeros(4),
            17,
            key=jax.random.PRNGKey(0),
            held_out=0.0,
        )


@pytest.mark.parametrize("name", ["mnist5k", "digits"])
def test_packaged_classifier_labels_the_test_split(name):
    dataset = data.load(name)
    classifier = sample_score.packaged(name, dataset.image_shape, dataset.num_bins)
    test = dataset.test.get(np.arange(len(dataset.test)))
    probabilities = classifier.pixel_probabilities(test["image"])
    accuracy = np.mean(probabilities.argmax(1) == test["label"])
    assert accuracy >= 0.93  # the seed-000 invertible classifier's 93-95% on mnist5k
    result = sample_score.score(probabilities)
    assert result.confident_share >= 0.8 and result.labels_present == 10
    # Confidence >= 0.9 means >= 90% correct on real digits (calibration).
    confident = probabilities.max(1) >= 0.9
    assert (
        np.mean(probabilities.argmax(1)[confident] == test["label"][confident]) >= 0.9
    )


def test_packaged_is_none_for_other_shapes_levels_or_names():
    assert sample_score.packaged("mnist5k", (28, 28, 3), 256) is None
    assert sample_score.packaged("mnist5k", (28, 28, 1), 16) is None
    assert sample_score.packaged("cifar10", (32, 32, 3), 256) is None


def test_check_samples_scores_every_draw():
    # Identity flow: the draws are T z; a "classifier" of the sign of the mean.
    shape = (2, 2, 1)
    flow = distrax.Block(distrax.Lambda(forward=lambda x: x, inverse=lambda z: z), 3)

    def classify(x):
        positive = x.reshape(len(x), -1).mean(1) > 0
        return np.stack([~positive, positive], axis=1).astype(np.float32)

    key = jax.random.PRNGKey(5)
    check = sample_check.check_samples(
        flow, shape, key, 0.7, num_draws=300, batch_size=128, classify=classify
    )
    z = np.concatenate(
        [jax.random.normal(jax.random.fold_in(key, i), (128, *shape)) for i in range(3)]
    )[:300]
    positive = int(np.sum(z.reshape(300, -1).mean(1) > 0))
    assert check.score.num_images == 300 and check.score.confident == 300
    assert check.score.label_counts == (300 - positive, positive)
    assert check.as_dict()["sample_score_T0.7_label_counts"] == [
        300 - positive,
        positive,
    ]
    unscored = sample_check.check_samples(flow, shape, key, 0.7, num_draws=10)
    assert unscored.score is None and "sample_score_T0.7_label_counts" not in (
        unscored.as_dict()
    )
