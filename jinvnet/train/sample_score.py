"""Sample quality as a number: a digit classifier's confident share and label histogram.

A flow's samples x = g(T z) are scored by a small convolutional classifier trained
on the dataset's training split (never on its test split), with its softmax
temperature fitted on a held-out part of the training split (temperature scaling,
Guo et al. 2017) so that "confidence 0.9" means about 90% correct on real digits:

    p(y | x) = softmax(logits(x) / tau),   confident(x) = max_y p(y | x) >= 0.9.

`score(p)` reports the confident share and the histogram of the confident labels (a
model that draws only ones is not a digit model); the same score of the test digits
themselves is the reference. Samples are quantised to the data's pixel levels first,
k = clip(floor((x + 1/2) num_bins), 0, num_bins - 1), so the classifier sees what
it was trained on; non-finite samples count as not confident.

`packaged(name)` loads the classifier that ships with jinvnet for an embedded dataset
("mnist5k", "digits"); `experiments/sample_score/train_classifiers.py` rebuilds them
with `train_classifier`.


Example (a doctest): the shipped digits classifier on the test digits, and a tiny
classifier trained, saved and loaded again.

    >>> import os, tempfile, jax
    >>> digits = data.datasets.digits()
    >>> classifier = packaged("digits", digits.image_shape, digits.num_bins)
    >>> isinstance(classifier, Classifier), os.path.exists(packaged_path("digits"))
    (True, True)
    >>> test = digits.test.get(np.arange(len(digits.test)))
    >>> result = score(classifier.pixel_probabilities(test["image"]))   # SampleScore
    >>> result.num_images, result.confident, len(result.label_counts)
    (297, 273, 10)
    >>> score(np.array([[0.95, 0.05], [0.5, 0.5]])).confident   # only the first
    1
    >>> round(fit_temperature(np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]]),
    ...                       np.array([0, 1, 1])), 3)        # one of three wrong
    2.885
    >>> train = digits.train.get(np.arange(200))
    >>> small = train_classifier(train["image"], train["label"], 17,
    ...                          key=jax.random.PRNGKey(0), num_steps=20)
    >>> isinstance(small.module(), DigitClassifier)
    True
    >>> path = os.path.join(tempfile.mkdtemp(), "small.npz")
    >>> save(small, path)
    >>> load(path).temperature == small.temperature
    True
"""

import dataclasses
import functools
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import traverse_util
from scipy import optimize, special

from jinvnet import data

_PACKAGED = os.path.join(os.path.dirname(__file__), "classifiers")
CONFIDENCE = 0.9  # the threshold: "confident" means max probability >= 0.9


class DigitClassifier(nn.Module):
    """A small convnet: (batch, h, w, c) in [-1/2, 1/2] -> (batch, classes) logits.

    Per entry of `features`, a 3x3 convolution with ReLU and 2x2 max-pooling; then
    the flattened features and a linear layer.
    """

    features: tuple[int, ...] = (16, 32)
    num_classes: int = 10

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits (batch, num_classes) of images (batch, height, width, channels)."""
        for features in self.features:
            x = nn.relu(nn.Conv(features, (3, 3))(x))
            x = nn.max_pool(x, (2, 2), (2, 2), padding="SAME")
        return nn.Dense(self.num_classes)(x.reshape(len(x), -1))


def _inputs(pixels: jax.Array, num_bins: int) -> jax.Array:
    """Integer pixel levels in [0, num_bins) -> classifier inputs in [-1/2, 1/2]."""
    return pixels.astype(jnp.float32) / (num_bins - 1) - 0.5


@dataclasses.dataclass(frozen=True)
class Classifier:
    """A trained `DigitClassifier` with its calibration.

    Attributes:
      params: the module's parameters.
      temperature: tau, the softmax temperature fitted on held-out training images.
      num_bins: pixel levels of the data it was trained on.
      image_shape: (height, width, channels) of the data it was trained on.
      features: the module's convolution widths.
      num_classes: number of labels.
      calibration_accuracy: accuracy on the held-out training images.
    """

    params: dict
    temperature: float
    num_bins: int
    image_shape: tuple[int, int, int]
    features: tuple[int, ...] = (16, 32)
    num_classes: int = 10
    calibration_accuracy: float = float("nan")

    def module(self) -> DigitClassifier:
        """The Flax module these parameters belong to."""
        return DigitClassifier(self.features, self.num_classes)

    def pixel_probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """p(y | x) (batch, classes) of integer pixel levels (batch, h, w, c)."""
        return np.asarray(
            _probabilities(
                self.module(),
                self.params,
                jnp.asarray(pixels),
                self.temperature,
                self.num_bins,
            )
        )

    def sample_probabilities(self, images: np.ndarray) -> np.ndarray:
        """p(y | x) (batch, classes) of samples in [-1/2, 1/2); 0 if non-finite."""
        images = np.asarray(images)
        finite = np.all(np.isfinite(images), axis=tuple(range(1, images.ndim)))
        pixels = data.quantize(
            jnp.where(np.isfinite(images), images, 0.0), self.num_bins
        )
        return self.pixel_probabilities(pixels) * finite[:, None]


@functools.partial(jax.jit, static_argnums=(0, 4))
def _probabilities(module, params, pixels, temperature, num_bins):
    logits = module.apply({"params": params}, _inputs(pixels, num_bins))
    return jax.nn.softmax(logits / temperature, axis=-1)


@dataclasses.dataclass(frozen=True)
class SampleScore:
    """How a classifier labels a set of images.

    Attributes:
      num_images: images scored.
      confident: images whose largest class probability is >= `threshold`.
      label_counts: (num_classes,) how many of the confident images got each label.
      threshold: the confidence threshold.
    """

    num_images: int
    confident: int
    label_counts: tuple[int, ...]
    threshold: float = CONFIDENCE

    @property
    def confident_share(self) -> float:
        """The share of confident images, confident / num_images."""
        return self.confident / self.num_images

    @property
    def labels_present(self) -> int:
        """Number of labels given to at least one confident image."""
        return sum(count > 0 for count in self.label_counts)

    def as_dict(self, prefix: str) -> dict:
        """Summary fields, e.g. prefix "sample_score_T0.7" -> "..._confident_share"."""
        return {
            f"{prefix}_confident_share": round(self.confident_share, 4),
            f"{prefix}_labels_present": self.labels_present,
            f"{prefix}_label_counts": list(self.label_counts),
        }

    def describe(self) -> str:
        """One line: confident share, labels present and the histogram."""
        histogram = " ".join(f"{k}:{n}" for k, n in enumerate(self.label_counts))
        return (
            f"{self.confident_share:.1%} of {self.num_images:,} classified with "
            f"confidence >= {self.threshold} ({self.labels_present} of "
            f"{len(self.label_counts)} labels present: {histogram})"
        )


def score(probabilities: np.ndarray, threshold: float = CONFIDENCE) -> SampleScore:
    """Scores class probabilities (num_images, num_classes) (rows of 0 never confident).

    Raises:
      ValueError: if `probabilities` is not a non-empty 2-D array.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or not len(probabilities):
        raise ValueError(
            "score: expected probabilities of shape (num_images, num_classes), got "
            f"{probabilities.shape}"
        )
    best = probabilities.max(axis=1)
    confident = best >= threshold
    labels = probabilities.argmax(axis=1)[confident]
    counts = np.bincount(labels, minlength=probabilities.shape[1])
    return SampleScore(
        num_images=len(probabilities),
        confident=int(confident.sum()),
        label_counts=tuple(int(n) for n in counts),
        threshold=threshold,
    )


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The tau in [1/16, 16] minimising the mean NLL of softmax(logits / tau).

    The NLL is convex in 1/tau, so a bounded scalar search over log tau finds it.
    """
    logits = np.asarray(logits, np.float64)
    picked = np.take_along_axis(logits, np.asarray(labels)[:, None], axis=1)[:, 0]

    def nll(log_tau):
        scaled = logits / np.exp(log_tau)
        return np.mean(special.logsumexp(scaled, axis=1) - picked / np.exp(log_tau))

    bound = np.log(16.0)
    result = optimize.minimize_scalar(
        nll, bounds=(-bound, bound), method="bounded", options={"xatol": 1e-4}
    )
    return float(np.exp(result.x))


def train_classifier(
    pixels: np.ndarray,
    labels: np.ndarray,
    num_bins: int,
    *,
    key: jax.Array,
    num_steps: int = 2000,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    held_out: float = 0.125,
    features: tuple[int, ...] = (16, 32),
) -> Classifier:
    """Trains a `DigitClassifier` with Adam and fits its temperature on a held-out part.

    Args:
      pixels: integer training images (n, h, w, c) in [0, num_bins).
      labels: their labels (n,) in [0, num_classes).
      num_bins: pixel levels.
      key: PRNG key (initialisation, batches and the held-out split).
      num_steps: Adam steps (default 2,000).
      batch_size: images per step (default 128).
      learning_rate: Adam's learning rate, cosine-decayed to 0 (default 1e-3).
      held_out: share of the images kept out of training to fit tau (default 1/8).
      features: convolution widths (default (16, 32)).

    Returns:
      The `Classifier`, with its accuracy on the held-out images.

    Raises:
      ValueError: for mismatched or too few images.
    """
    pixels, labels = np.asarray(pixels), np.asarray(labels, np.int32)
    num_held = int(round(held_out * len(pixels)))
    if len(pixels) != len(labels) or num_held < 1 or len(pixels) - num_held < 2:
        raise ValueError(
            f"train_classifier: need matching images and labels with at least one "
            f"held out, got {len(pixels)} images, {len(labels)} labels, "
            f"held_out={held_out}"
        )
    num_classes = int(labels.max()) + 1
    split_key, init_key, batch_key = jax.random.split(key, 3)
    order = np.asarray(jax.random.permutation(split_key, len(pixels)))
    held, kept = order[:num_held], order[num_held:]
    module = DigitClassifier(tuple(features), num_classes)
    inputs = _inputs(jnp.asarray(pixels), num_bins)
    params = module.init(init_key, inputs[:1])["params"]
    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, num_steps))
    opt_state = optimizer.init(params)

    @jax.jit
    def step(params, opt_state, x, y):
        def loss(params):
            logits = module.apply({"params": params}, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        grads = jax.grad(loss)(params)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state

    kept_inputs, kept_labels = inputs[kept], jnp.asarray(labels[kept])
    for i in range(num_steps):
        batch = jax.random.choice(
            jax.random.fold_in(batch_key, i), len(kept), (batch_size,), replace=False
        )
        params, opt_state = step(
            params, opt_state, kept_inputs[batch], kept_labels[batch]
        )
    logits = np.asarray(module.apply({"params": params}, inputs[held]))
    return Classifier(
        params=jax.device_get(params),
        temperature=fit_temperature(logits, labels[held]),
        num_bins=num_bins,
        image_shape=tuple(pixels.shape[1:]),
        features=tuple(features),
        num_classes=num_classes,
        calibration_accuracy=float(np.mean(logits.argmax(1) == labels[held])),
    )


def save(classifier: Classifier, path: str) -> None:
    """Writes the classifier to an .npz file (parameters and settings)."""
    flat = traverse_util.flatten_dict(classifier.params, sep="/")
    meta = {
        "temperature": classifier.temperature,
        "num_bins": classifier.num_bins,
        "image_shape": np.asarray(classifier.image_shape),
        "features": np.asarray(classifier.features),
        "num_classes": classifier.num_classes,
        "calibration_accuracy": classifier.calibration_accuracy,
    }
    tmp = f"{path}.tmp.npz"
    np.savez_compressed(
        tmp, **{f"params/{k}": np.asarray(v) for k, v in flat.items()}, **meta
    )
    os.replace(tmp, path)


def load(path: str) -> Classifier:
    """Reads a classifier written by `save`."""
    with np.load(path) as f:
        flat = {k[len("params/") :]: f[k] for k in f.files if k.startswith("params/")}
        return Classifier(
            params=traverse_util.unflatten_dict(flat, sep="/"),
            temperature=float(f["temperature"]),
            num_bins=int(f["num_bins"]),
            image_shape=tuple(int(n) for n in f["image_shape"]),
            features=tuple(int(n) for n in f["features"]),
            num_classes=int(f["num_classes"]),
            calibration_accuracy=float(f["calibration_accuracy"]),
        )


def packaged_path(dataset_name: str) -> str:
    """Where jinvnet keeps the classifier of an embedded dataset."""
    return os.path.join(_PACKAGED, f"{dataset_name}.npz")


def packaged(
    dataset_name: str, image_shape: tuple[int, ...], num_bins: int
) -> Classifier | None:
    """The classifier shipped for `dataset_name` ("mnist5k", "digits"), else None.

    None too when the data's image shape or pixel levels differ from those it was
    trained on (a mock dataset under the same name, a resized one).
    """
    path = packaged_path(dataset_name)
    if not os.path.exists(path):
        return None
    classifier = load(path)
    if classifier.image_shape != tuple(image_shape) or classifier.num_bins != num_bins:
        return None
    return classifier
