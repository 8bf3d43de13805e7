"""Hidden Markov models along the genome: runs of homozygosity from genotypes, and allele-fraction segments.

* ``runs_of_homozygosity``: a two-state categorical HMM (autozygous / not) over each sample's genotyped sites
  (observation: heterozygous or homozygous), fitted with hmmlearn's EM over all samples' chromosomes at once and
  decoded with Viterbi. Missing genotypes are skipped, never read as homozygous.
  A homozygous stretch is called a run only when it meets PLINK's ``--homozyg`` defaults: at least
  ``MIN_ROH_SITES`` sites, ``MIN_ROH_KB`` kb, and no more than ``MAX_KB_PER_SITE`` kb per site on average;
  shorter stretches are shown as "short homozygous stretch (not called)", and a file too sparse to hold any run
  says so.
* ``allele_fraction_segments``: a Gaussian HMM over the shown sample's variant allele fractions (tumour VAF),
  which splits the genome into stretches of similar allelic state (for example loss of heterozygosity, VAF ~1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext, null_context

MIN_SITES = 20
MIN_ROH_SITES = 100       # PLINK --homozyg-snp
MIN_ROH_KB = 1000         # PLINK --homozyg-kb
MAX_KB_PER_SITE = 50      # PLINK --homozyg-density
SHORT = "short homozygous stretch (not called)"
MIN_DEPTH = 10
FIT_SAMPLES = 64
STAY = 0.999  # allele-fraction states change rarely between neighbouring variants
SEED = 0


@dataclass
class Segment:
    sample: str
    chrom: str
    start: int
    end: int
    state: str
    n_sites: int
    value: float   # heterozygous fraction (ROH) or mean VAF (allele-fraction segments)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class HmmResult:
    kind: str                 # "runs of homozygosity" | "allele-fraction segments"
    segments: list[Segment]
    samples: list[str]
    summary: dict            # per-sample fraction in ROH / state means, model parameters

    def as_dict(self) -> dict:
        return {"kind": self.kind, "samples": self.samples, "summary": self.summary,
                "segments": [s.as_dict() for s in self.segments]}


def _runs(chrom: np.ndarray, pos: np.ndarray, states: np.ndarray, values: np.ndarray, sample: str,
          names: dict[int, str]) -> list[Segment]:
    segments = []
    start = 0
    for i in range(1, len(states) + 1):
        if i == len(states) or states[i] != states[start] or chrom[i] != chrom[start]:
            segments.append(Segment(sample, str(chrom[start]), int(pos[start]), int(pos[i - 1]),
                                    names[int(states[start])], i - start, float(np.mean(values[start:i]))))
            start = i
    return segments


def _chrom_lengths(chrom: np.ndarray) -> list[int]:
    change = np.flatnonzero(chrom[1:] != chrom[:-1]) + 1
    edges = np.concatenate([[0], change, [len(chrom)]])
    return [int(n) for n in np.diff(edges) if n > 0]


def thresholds_text() -> str:
    return (f"a run needs at least {MIN_ROH_SITES} sites over at least {MIN_ROH_KB:,} kb, at most "
            f"{MAX_KB_PER_SITE} kb per site (PLINK --homozyg defaults)")


def _apply_thresholds(segments: list[Segment]) -> list[Segment]:
    for seg in segments:
        if seg.state != "ROH":
            continue
        kb = (seg.end - seg.start + 1) / 1000
        if seg.n_sites < MIN_ROH_SITES or kb < MIN_ROH_KB or kb / max(seg.n_sites, 1) > MAX_KB_PER_SITE:
            seg.state = SHORT
    return segments


def sparsity(chrom: np.ndarray, pos: np.ndarray) -> str:
    """Why these genotyped sites cannot hold a run of homozygosity ('' when they can)."""
    if len(pos) < MIN_ROH_SITES:
        return f"too sparse for runs of homozygosity: {len(pos)} genotyped sites ({thresholds_text()})"
    spans = [int(pos[chrom == c].max() - pos[chrom == c].min()) for c in np.unique(chrom)]
    if max(spans) / 1000 < MIN_ROH_KB:
        return (f"too sparse for runs of homozygosity: the genotyped sites span at most {max(spans) / 1000:,.0f} kb "
                f"of one chromosome ({thresholds_text()})")
    density = sum(spans) / 1000 / len(pos)
    if density > MAX_KB_PER_SITE:
        return (f"too sparse for runs of homozygosity: one genotyped site per {density:,.0f} kb "
                f"({thresholds_text()})")
    return ""


def runs_of_homozygosity(variants, samples: list[str] | None = None, ctx: JobContext | None = None) -> HmmResult:
    from hmmlearn.hmm import CategoricalHMM

    ctx = ctx or null_context()
    if variants.genotypes is None:
        raise MedStationError(f"{variants.path.name} has no genotypes, so runs of homozygosity cannot be called",
                              kept="the variant table is unaffected")
    table = variants.table
    chrom = table["chrom"].astype(str).to_numpy()
    pos = table["pos"].to_numpy()
    wanted = samples or variants.samples
    columns = [variants.samples.index(s) for s in wanted]
    snv = (table["type"] == "SNV").to_numpy()
    sequences = []
    for column, sample in zip(columns, wanted):
        gt = variants.genotypes[:, column]
        keep = snv & (gt != 2)
        if keep.sum() >= MIN_SITES:
            sequences.append((sample, keep, (gt[keep] == 1).astype(int)))
    if not sequences:
        raise MedStationError(f"{variants.path.name}: fewer than {MIN_SITES} genotyped SNVs per sample, too few "
                              "for runs of homozygosity", kept="the variant table is unaffected")
    model = CategoricalHMM(n_components=2, n_features=2, n_iter=20, tol=1e-3, random_state=SEED, init_params="",
                           params="te")
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[0.99, 0.01], [0.01, 0.99]])
    model.emissionprob_ = np.array([[0.98, 0.02], [0.6, 0.4]])  # state 0 autozygous: hets only as errors
    obs = np.concatenate([s[2] for s in sequences]).reshape(-1, 1)
    lengths = [n for _s, keep, _o in sequences for n in _chrom_lengths(chrom[keep])]
    in_file = sorted(sequences, key=lambda seq: variants.samples.index(seq[0]))
    training = in_file[:: max(1, len(in_file) // FIT_SAMPLES)]  # EM on an even spread of the file's samples
    model.fit(np.concatenate([s[2] for s in training]).reshape(-1, 1),
              [n for _s, keep, _o in training for n in _chrom_lengths(chrom[keep])])
    ctx.progress(0.5, None, "decoding runs of homozygosity")
    roh_state = int(np.argmin(model.emissionprob_[:, 1]))
    names = {roh_state: "ROH", 1 - roh_state: "not ROH"}
    all_states = model.predict(obs, lengths)
    segments, fractions, decoded, sparse, offset = [], {}, {}, {}, 0
    for sample, keep, o in sequences:
        states = all_states[offset: offset + len(o)]
        offset += len(o)
        segs = _runs(chrom[keep], pos[keep], states, o.astype(float), sample, names)
        span = sum(s.end - s.start + 1 for s in segs) or 1
        decoded[sample] = sum(s.end - s.start + 1 for s in segs if s.state == "ROH") / span
        segs = _apply_thresholds(segs)
        segments += segs
        fractions[sample] = sum(s.end - s.start + 1 for s in segs if s.state == "ROH") / span
        sparse[sample] = sparsity(chrom[keep], pos[keep])
    ctx.progress(1.0, None, "runs of homozygosity ready")
    summary = {"fraction_in_roh": fractions, "fraction_homozygous_state": decoded, "het_rate_roh": float(model.emissionprob_[roh_state, 1]),
               "het_rate_other": float(model.emissionprob_[1 - roh_state, 1]),
               "transmat": model.transmat_.round(4).tolist(), "thresholds": thresholds_text(),
               "too_sparse": sparse}
    return HmmResult("runs of homozygosity", segments, [s[0] for s in sequences], summary)


def allele_fraction_segments(variants, n_states: int = 3, ctx: JobContext | None = None) -> HmmResult:
    from hmmlearn.hmm import GaussianHMM

    ctx = ctx or null_context()
    table = variants.table
    vaf = table["vaf"].to_numpy(dtype=float)
    depth = table["depth"].to_numpy(dtype=float)
    keep = ~np.isnan(vaf) & ~(depth < MIN_DEPTH)
    if keep.sum() < MIN_SITES:
        raise MedStationError(f"{variants.path.name}: fewer than {MIN_SITES} variants with an allele fraction",
                              kept="the variant table is unaffected")
    chrom = table["chrom"].astype(str).to_numpy()[keep]
    pos = table["pos"].to_numpy()[keep]
    x = vaf[keep].reshape(-1, 1)
    model = GaussianHMM(n_components=n_states, covariance_type="diag", n_iter=15, tol=1e-2, random_state=SEED,
                        init_params="", params="mc")
    model.startprob_ = np.full(n_states, 1.0 / n_states)
    off = (1 - STAY) / (n_states - 1)
    model.transmat_ = np.full((n_states, n_states), off) + np.eye(n_states) * (STAY - off)
    model.covars_ = np.full((n_states, 1), 0.02)
    model.means_ = np.quantile(x, np.linspace(0.15, 0.95, n_states)).reshape(-1, 1)
    lengths = _chrom_lengths(chrom)
    model.fit(x, lengths)
    ctx.progress(0.6, None, "decoding allele-fraction segments")
    states = model.predict(x, lengths)
    order = np.argsort(model.means_[:, 0])
    labels = ["low VAF (subclonal)", "mid VAF (heterozygous)", "high VAF (LOH / homozygous)"]
    names = {int(state): labels[min(rank, 2) if n_states == 3 else rank % 3] for rank, state in enumerate(order)}
    segments = _runs(chrom, pos, states, x[:, 0], variants.sample, names)
    summary = {"state_means": {names[int(s)]: float(model.means_[s, 0]) for s in order},
               "transmat": model.transmat_.round(4).tolist(), "sites": int(keep.sum())}
    ctx.progress(1.0, None, "segments ready")
    return HmmResult("allele-fraction segments", segments, [variants.sample], summary)


def analyse(variants, ctx: JobContext | None = None, sample: str | None = None) -> HmmResult:
    """ROH for germline genotypes (several samples or informative single sample), else VAF segments; the
    shown sample comes first."""
    gts = variants.genotypes
    if gts is not None and variants.normal is None:
        informative = ((gts == 0) | (gts == 1) | (gts == 3)).sum(axis=0)
        if informative.max(initial=0) >= MIN_SITES and (gts == 3).any():
            order = list(variants.samples)
            if sample in order:
                order.remove(sample)
                order.insert(0, sample)
            return runs_of_homozygosity(variants, samples=order, ctx=ctx)
    return allele_fraction_segments(variants, ctx=ctx)
