"""Step-by-step generation with the tiny character transformer, watching entropies.

At each step t the model gives the next-character distribution ``p_t``; a decoding rule
(:mod:`workbench.text.decoding`: temperature, then top-k / top-p / η / typical / min-p) turns it
into ``q_t``, from which the character is drawn. :class:`DecodingSession` records per token the
model's entropy ``H(p_t)``, the entropy of the distribution actually sampled ``H(q_t)``, the
kept mass and the chosen character.

**Stable entropy zone** (Arora, O'Donnell, Precup, Weston & Cheung 2023, "The stable entropy
hypothesis and entropy-aware decoding", arXiv:2302.06784): along human text and along the
model's own greedy decoding, ``H(p_t)`` stays in a narrow band; text whose entropy leaves the
band tends to degenerate (repetition below it, incoherence above). :meth:`DecodingSession.
stable_band` estimates the band as ``mean ± k·std`` of ``H(p_t)``, either teacher-forced along
the held-out 10% of the shipped text (``"human"``) or along greedy continuations of prompts
taken from it (``"greedy"``).

**Semantic entropy** (Kuhn, Gal & Farquhar 2023, "Semantic uncertainty", ICLR):
:meth:`DecodingSession.semantic_demo` samples several continuations, groups them by an
equivalence (by default the same first word) and computes, with :mod:`workbench.text.semantic`,
the entropy over clusters from counts and from the model's sequence probabilities normalised over
the distinct samples, optionally with bootstrap intervals.

The model: :func:`load_or_train` loads a saved run (``model.pt`` read with
``torch.load(weights_only=True)`` beside its ``config.json`` in :class:`workbench.runs.RunStore`)
or trains one on the shipped text (a few seconds on a CPU) and saves it. No weights are
downloaded.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import param

from ..errors import EstimationError, FileLoadError, InputError, KnobError, WorkbenchError
from ..runs import RunStore
from ..units import LN2, UNITS, Estimate, check_units
from . import decoding, semantic
from .tokens import entropy_nats, sequence_log_prob

if TYPE_CHECKING:
    from ..measures.stats import BootstrapResult

#: Training settings of the Lab's model: about 5 s on one CPU core, held-out loss about
#: 2.1 nats per character (a uniform guess over the ~60 characters is 4.1).
LAB_MODEL = {"steps": 500, "eval_every": 500, "seed": 0}
WEIGHTS = "model.pt"
_CACHE: dict[str, CharLM] = {}
_CACHE_LOCK = threading.Lock()


# ----- the model ------------------------------------------------------------------------------
@dataclass
class CharLM:
    """A trained character transformer with its vocabulary: next-character distributions."""

    model: Any                  # workbench.attention.transformer.CharTransformer
    vocab: Any                  # workbench.attention.transformer.CharVocab
    config: dict                # the transformer's knobs
    val_loss: float             # held-out cross-entropy, nats per character
    source: str                 # where it came from: "trained" or "loaded run <id>"

    @property
    def context(self) -> int:
        return int(self.config["context"])

    def encode(self, text: str) -> np.ndarray:
        if not isinstance(text, str) or not text:
            raise InputError("the prompt must be a non-empty string")
        return self.vocab.encode(text)

    def next_probs(self, ids: np.ndarray) -> np.ndarray:
        """Next-character distribution (float64) after each row of ``ids`` (its last
        ``context`` characters count)."""
        import torch

        from ..torch_utils import torch_threads

        ids = np.atleast_2d(ids)[:, -self.context:]
        # one thread: for a model this small, thread hand-offs cost 10-20x the arithmetic
        with torch.no_grad(), torch_threads(1):
            logits = self.model(torch.as_tensor(ids))[:, -1].double()
            return torch.softmax(logits, dim=-1).numpy()

    def teacher_forced_probs(self, text: str) -> np.ndarray:
        """The model's distribution for every character of ``text`` after the first
        ``context`` ones, each with a full context: rows = positions."""
        import torch

        ids = self.encode(text)
        if len(ids) <= self.context:
            raise InputError(f"text of {len(ids)} characters is not longer than the context "
                             f"({self.context})")
        from ..torch_utils import torch_threads

        windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], self.context)
        with torch.no_grad(), torch_threads(1):
            logits = self.model(torch.as_tensor(np.ascontiguousarray(windows)))[:, -1]
            return torch.softmax(logits.double(), dim=-1).numpy()


def _run_id(config: dict) -> str:
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]
    return f"char-lm-{digest}"


def _model_config(overrides: dict) -> dict:
    from ..attention.transformer import make_config

    return make_config(None, **{**LAB_MODEL, **overrides}).values()


def load_or_train(root: str | os.PathLike | None = None, *, save: bool = True,
                  progress: Callable[[str], Any] | None = None, **overrides: Any) -> CharLM:
    """The Lab's character model: from memory, else from the run folder ``root`` (default
    :func:`workbench.runs.default_root`) if a finished run with these settings exists, else
    trained now (:data:`LAB_MODEL` plus ``overrides``, transformer knobs) and, with ``save``,
    stored there for next time. A run's id is a hash of its settings, so changed knobs train a
    new model instead of loading an unrelated one. ``progress`` gets one-line status messages.
    """
    config = _model_config(overrides)
    run_id = _run_id(config)
    store = RunStore(root)
    key = f"{store.root}/{run_id}"
    say = progress or (lambda _m: None)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        path = store.root / run_id
        if (path / WEIGHTS).is_file():
            say(f"loading run {run_id}")
            lm = _load(path, config)
        else:
            say(f"training the character transformer ({config['steps']} steps)")
            lm = _train(config)
            if save:
                _save(store, run_id, lm)
        _CACHE[key] = lm
        return lm


def _train(config: dict) -> CharLM:
    from ..attention.transformer import train_char_transformer

    result = train_char_transformer(config)
    if result.stopped:
        raise EstimationError(f"training the character model failed: {result.stopped}")
    val = float(result.rows["val_loss"].iloc[-1])
    return CharLM(result.model.eval(), result.vocab, config, val, "trained")


def _save(store: RunStore, run_id: str, lm: CharLM) -> None:
    """config.json (settings, vocabulary, held-out loss) then the weights, written to a
    temporary file and renamed, so a reader sees a complete model.pt or none."""
    import torch

    try:
        run = store.create({"kind": "char_lm", "name": "char-lm", "transformer": lm.config,
                            "vocab": lm.vocab.chars, "val_loss": lm.val_loss,
                            "val_loss_units": "nats"}, run_id)
    except WorkbenchError:  # another process saved the same settings first: keep ours
        return
    try:
        tmp = run.path / f".{WEIGHTS}.tmp"
        torch.save(lm.model.state_dict(), tmp)
        os.replace(tmp, run.path / WEIGHTS)
        run.update_config(status="complete")
        lm.source = f"trained and saved as run {run_id}"
    finally:
        run.close()


def _load(path: Path, config: dict) -> CharLM:
    import torch

    from ..attention.transformer import CharTransformer, CharVocab, make_config

    try:
        saved = json.loads((path / "config.json").read_text("utf-8"))
        if saved.get("transformer") != config or not isinstance(saved.get("vocab"), str):
            raise FileLoadError(f"run {path.name} holds another model's settings")
        vocab = CharVocab(saved["vocab"])
        model = CharTransformer(len(vocab), make_config(config))
        state = torch.load(path / WEIGHTS, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    except FileLoadError:
        raise
    except Exception as exc:  # a damaged or foreign file: say which, never unpickle code
        raise FileLoadError(f"could not load the model of run {path.name}: {exc}; delete "
                            f"{path} to train a fresh one") from exc
    return CharLM(model.eval(), vocab, config, float(saved.get("val_loss", math.nan)),
                  f"loaded run {path.name}")


# ----- the stable entropy band ------------------------------------------------------------
@dataclass(frozen=True)
class StableBand:
    """``mean ± k·std`` of the model's entropy along ``source`` text (``n`` positions)."""

    mean: float
    std: float
    k: float
    units: str
    source: str
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.k * self.std

    @property
    def high(self) -> float:
        return self.mean + self.k * self.std

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _entropy(p: np.ndarray, units: str) -> np.ndarray:
    h = entropy_nats(p)
    return h / LN2 if units == "bits" else h


def human_entropies(lm: CharLM, units: str = "bits", text: str | None = None) -> np.ndarray:
    """``H(p_t)`` teacher-forced along ``text`` (default: the held-out last 10% of the
    shipped text the model was trained on)."""
    from ..data import load_text

    text = text if text is not None else _held_out(load_text(lm.config["text"]))
    return _entropy(lm.teacher_forced_probs(text), check_units(units))


def _held_out(text: str) -> str:
    return text[int(0.9 * len(text)):]


def greedy_entropies(lm: CharLM, prompts: Sequence[str], steps: int = 64,
                     units: str = "bits") -> np.ndarray:
    """``H(p_t)`` along greedy (argmax) continuations of each prompt: (prompts, steps)."""
    units = check_units(units)
    lengths = {len(p) for p in prompts}
    if len(lengths) != 1:
        raise InputError("greedy prompts must have one length (they are decoded as a batch)")
    ids = np.stack([lm.encode(p) for p in prompts])
    out = np.empty((len(prompts), steps))
    for t in range(steps):
        probs = lm.next_probs(ids)
        out[:, t] = _entropy(probs, units)
        ids = np.concatenate([ids, probs.argmax(axis=1)[:, None]], axis=1)
    return out


def stable_band(lm: CharLM, source: str = "human", k: float = 1.0, units: str = "bits",
                n_prompts: int = 8, steps: int = 64) -> StableBand:
    """The stable entropy zone ``mean ± k·std`` of ``H(p_t)`` (Arora et al. 2023) along the
    held-out text (``"human"``) or along greedy continuations of ``n_prompts`` evenly spaced
    held-out windows of one context (``"greedy"``, ``steps`` characters each)."""
    from ..data import load_text

    if source not in ("human", "greedy"):
        raise KnobError(f"band source must be 'human' or 'greedy', got {source!r}")
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not 0 <= k < math.inf:
        raise KnobError(f"band width k must be a finite number >= 0, got {k!r}")
    units = check_units(units)
    if source == "human":
        values = human_entropies(lm, units)
    else:
        held = _held_out(load_text(lm.config["text"]))
        starts = np.linspace(0, len(held) - lm.context, n_prompts).astype(int)
        values = greedy_entropies(lm, [held[s:s + lm.context] for s in starts], steps, units)
    values = np.ravel(values)
    return StableBand(float(values.mean()), float(values.std()), float(k), units, source,
                      values.size)


# ----- semantic entropy of sampled continuations ------------------------------------------
@dataclass
class SemanticDemo:
    """Sampled continuations, their clusters and the semantic entropies (Kuhn et al. 2023),
    computed by :mod:`workbench.text.semantic`."""

    samples: pd.DataFrame       # continuation, cluster, log_prob (model, nats)
    clusters: pd.DataFrame      # cluster, n, p_counts, p_weighted
    entropy_counts: Estimate    # discrete SE, p(c) = n_c / n
    entropy_weighted: Estimate  # SE from sequence probabilities renormalised over the samples
    units: str
    ci_counts: BootstrapResult | None = None     # bootstrap over the samples (None: not asked)
    ci_weighted: BootstrapResult | None = None


def _cluster_labels(texts: Sequence[str], ids: np.ndarray) -> list[str]:
    """A readable name per class: the first word of its first member (with the class number
    when a custom equivalence gives two classes the same first word)."""
    reps = [texts[int(np.flatnonzero(ids == c)[0])] for c in range(int(ids.max()) + 1)]
    words = [semantic.first_word(r) for r in reps]
    if len(set(words)) < len(words):
        words = [f"{c}: {w}" for c, w in enumerate(words)]
    return words


def semantic_tables(texts: Sequence[str], log_probs: Any,
                    equivalent: Callable[[str, str], bool] = semantic.same_first_word,
                    units: str = "bits", n_resamples: int = 0,
                    seed: int | None = 0) -> SemanticDemo:
    """Cluster sampled ``texts`` with ``equivalent`` (:func:`~workbench.text.semantic.
    cluster_answers`) and compute semantic entropy from counts and from the sequence
    log-probabilities ``log_probs`` (nats, ≤ 0; renormalised over the distinct samples by
    :func:`~workbench.text.semantic.semantic_entropy`); with ``n_resamples`` > 0 also percentile
    bootstrap intervals over the samples (:func:`~workbench.text.semantic.semantic_entropy_ci`).
    """
    units = check_units(units)
    texts = list(texts)
    lp = np.asarray(log_probs, dtype=np.float64).ravel()
    if lp.size == len(texts):
        # a character sequence has one probability: rows of a batched forward pass may differ
        # in the last float32 bits, which would make a repeat look like another sequence (and
        # count twice) when semantic_entropy looks for repeated (text, log p) pairs
        first: dict[str, float] = {}
        lp = np.array([first.setdefault(t, v) for t, v in zip(texts, lp)])
    ids = semantic.cluster_answers(texts, equivalent)
    labels = _cluster_labels(texts, ids)
    weighted = dict(cluster_ids=ids, log_probs=lp, variant="weighted", units=units)
    clusters = pd.DataFrame({
        "cluster": labels, "n": np.bincount(ids),
        "p_counts": semantic.cluster_distribution(cluster_ids=ids),
        "p_weighted": semantic.cluster_distribution(texts, cluster_ids=ids, log_probs=lp,
                                           variant="weighted")})
    samples = pd.DataFrame({"continuation": texts, "cluster": [labels[i] for i in ids],
                            "log_prob": lp})
    cis = (None, None)
    if n_resamples:
        with warnings.catch_warnings():
            # a biased-low interval is reported by its excludes_estimate flag, not a warning
            warnings.simplefilter("ignore", UserWarning)
            cis = (semantic.semantic_entropy_ci(cluster_ids=ids, units=units,
                                                n_resamples=n_resamples, seed=seed),
                   semantic.semantic_entropy_ci(texts, n_resamples=n_resamples, seed=seed,
                                                **weighted))
    return SemanticDemo(samples, clusters,
                        semantic.semantic_entropy(cluster_ids=ids, units=units),
                        semantic.semantic_entropy(texts, **weighted), units, *cis)


# ----- the session --------------------------------------------------------------------------
#: Each rule's knob on :class:`DecodingSession` (temperature is applied before every rule).
RULE_KNOBS = {"temperature": None, "top_k": "top_k", "top_p": "top_p", "eta": "epsilon",
              "typical": "typical_mass", "min_p": "min_p"}


_ROW_COLUMNS = ["position", "char", "token", "model_entropy", "truncated_entropy", "kept",
                "kept_mass", "p_model", "p_sampled", "rule"]


class DecodingSession(param.Parameterized):
    """Generate from the character model one token at a time and record entropies::

        s = DecodingSession(prompt="Alice was ", rule="typical", typical_mass=0.9)
        s.generate(40)
        s.table()            # position, char, model_entropy, truncated_entropy, kept, ...
        s.stable_band()      # StableBand(mean, std, k, ...) of the model on held-out text
        s.semantic_demo()    # clusters of sampled continuations by first word
        s.plot()             # H(p) and H(q) per character over the band (HoloViews)

    The model comes from :func:`load_or_train` unless ``lm`` is given.
    """

    prompt = param.String("Alice was beginning to ", doc="text the model continues")
    rule = param.Selector(objects=list(decoding.RULES), default="top_p",
                          doc="truncation rule applied after the temperature")
    temperature = param.Number(1.0, bounds=(0.05, 10.0), softbounds=(0.1, 3.0), step=0.05,
                               doc="divide logits by τ before the rule (τ < 1 sharpens)")
    top_k = param.Integer(10, bounds=(1, 10_000), softbounds=(1, 60),
                          doc="top-k: keep the k most probable characters")
    top_p = param.Number(0.9, bounds=(0.01, 1.0), step=0.01,
                         doc="top-p: keep the fewest most probable characters with mass ≥ p")
    epsilon = param.Number(3e-4, bounds=(1e-6, 0.5),
                           doc="η-sampling: ε in η = min(ε, √ε·exp(-H))")
    typical_mass = param.Number(0.9, bounds=(0.01, 1.0), step=0.01,
                                doc="locally typical: mass kept, closest surprisal first")
    min_p = param.Number(0.1, bounds=(0.0, 1.0), step=0.01,
                         doc="min-p: keep p ≥ p_base · max p")
    units = param.Selector(objects=list(UNITS), default="bits", doc="units of every entropy")
    seed = param.Integer(0, bounds=(0, None), doc="seed of the sampling")

    def __init__(self, lm: CharLM | None = None, *, load: bool = True, **params):
        super().__init__(**params)
        self.lm: CharLM | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._rows: list[dict] = []
        if lm is not None or load:
            self.attach(lm if lm is not None else load_or_train())

    def attach(self, lm: CharLM) -> None:
        """Use ``lm`` from now on (e.g. once a page has loaded it) and start again."""
        self.lm = lm
        self.reset()

    # ----- state ------------------------------------------------------------------------
    def reset(self, prompt: str | None = None) -> None:
        """Start again from ``prompt`` (default: the current one), reseeded."""
        if prompt is not None:
            self.prompt = prompt
        self._ids = self._model().encode(self.prompt)
        self._rows: list[dict] = []
        self._rng = np.random.default_rng(self.seed)

    def _model(self) -> CharLM:
        if self.lm is None:
            raise InputError("no model yet: wait until it has loaded (or call attach)")
        return self.lm

    @property
    def generated(self) -> str:
        """The characters generated since the last reset."""
        return "".join(r["char"] for r in self._rows)

    @property
    def text(self) -> str:
        return self.prompt + self.generated

    def rule_value(self):
        """The current rule's knob value (None for plain temperature)."""
        name = RULE_KNOBS[self.rule]
        return 1.0 if name is None else getattr(self, name)

    def truncate(self, probs: np.ndarray) -> decoding.Truncation:
        return decoding.decode(probs, self.rule, self.rule_value(), self.temperature,
                               self.units)

    # ----- generation -------------------------------------------------------------------
    def step(self) -> dict:
        """Generate one character; returns (and records) its row."""
        lm = self._model()
        p = lm.next_probs(self._ids)[0]
        t = self.truncate(p)
        token = decoding.sample(t, self._rng)
        self._ids = np.append(self._ids, token)
        # kept in nats; table() converts, so changing units relabels the whole history
        ln = LN2 if self.units == "bits" else 1.0
        self._rows.append({
            "position": len(self._rows), "char": lm.vocab.chars[token], "token": int(token),
            "model_entropy": float(_entropy(p, "nats")), "truncated_entropy": t.entropy * ln,
            "kept": t.n_kept, "kept_mass": t.kept_mass, "p_model": float(p[token]),
            "p_sampled": float(t.probs[token]), "rule": self.rule})
        return self._shown(self._rows[-1])

    def generate(self, n: int = 40) -> pd.DataFrame:
        """Generate ``n`` characters; returns their rows."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10_000:
            raise KnobError(f"n must be an integer in [1, 10000], got {n!r}")
        start = len(self._rows)
        for _ in range(n):
            self.step()
        return self.table().iloc[start:]

    def _shown(self, row: dict) -> dict:
        """One recorded row as :meth:`table` shows it (entropies in the current units), built
        alone so that a step costs O(1), not a table of the whole session."""
        ln = LN2 if self.units == "bits" else 1.0  # divided, as table() does: same floats
        return {**row, "model_entropy": row["model_entropy"] / ln,
                "truncated_entropy": row["truncated_entropy"] / ln, "units": self.units}

    def table(self) -> pd.DataFrame:
        """One row per generated character, entropies in the current ``units``."""
        frame = pd.DataFrame(self._rows, columns=_ROW_COLUMNS)
        if self.units == "bits":
            frame[["model_entropy", "truncated_entropy"]] /= LN2
        return frame.assign(units=self.units)

    def stable_band(self, source: str = "human", k: float = 1.0) -> StableBand:
        return stable_band(self._model(), source, k, self.units)

    def plot(self, band: str | StableBand | None = "human", k: float = 1.0):
        """HoloViews plot of H(p) and H(q) per generated character over the stable band from
        ``band`` (a source, ``"human"`` or ``"greedy"``; a :class:`StableBand` already
        computed, in the session's units; ``None``: no band); units on the axis."""
        from ..plots.decoding import entropy_trace

        if isinstance(band, StableBand):
            if band.units != self.units:
                raise InputError(f"the band is in {band.units}, the session in {self.units}")
            shown = band
        else:
            shown = None if band is None else self.stable_band(band, k)
        return entropy_trace(self.table(), shown, self.units)

    # ----- semantic entropy -------------------------------------------------------------
    def semantic_demo(self, n_samples: int = 10, length: int = 16,
                      equivalent: Callable[[str, str], bool] = semantic.same_first_word,
                      n_resamples: int = 0) -> SemanticDemo:
        """Sample ``n_samples`` continuations of ``length`` characters of the current text
        with the current rule, cluster them by ``equivalent`` (same first word by default) and
        compute semantic entropy (:func:`semantic_tables`) from counts and from the model's
        sequence probabilities ``log p(s | x) = Σ_t log p_t(s_t)`` (the model's own p, not the
        truncated q); ``n_resamples`` > 0 adds bootstrap intervals."""
        for name, value, low, top in (("n_samples", n_samples, 1, 200),
                                      ("length", length, 1, 200),
                                      ("n_resamples", n_resamples, 0, 10_000)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
                raise KnobError(f"{name} must be an integer in [{low}, {top}], got {value!r}")
        lm = self._model()
        rng = np.random.default_rng([self.seed, len(self._ids)])
        ids = np.repeat(self._ids[None, :], n_samples, axis=0)
        steps = []
        for _ in range(length):
            p = lm.next_probs(ids)
            tokens = decoding.sample(self.truncate(p), rng)
            steps.append(p)
            ids = np.concatenate([ids, tokens[:, None]], axis=1)
        log_p = sequence_log_prob(ids[:, -length:], np.stack(steps, axis=1))
        texts = [lm.vocab.decode(row[-length:]) for row in ids]
        return semantic_tables(texts, log_p, equivalent, self.units, n_resamples, self.seed)
