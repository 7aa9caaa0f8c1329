"""Photon transport in water, used offline to build the photon part of dose point kernels.

Run only by :mod:`prrt.dosimetry.voxel.dpk_generate` (never during a dose
calculation).  Method of ``dosimetry-reference.md`` §3.6.7: photoelectric
absorption, Compton scattering (Klein–Nishina angular law; total incoherent
cross section including binding effects) and Rayleigh scattering (angular law
Thomson × molecular form factor² in the independent-atom approximation), in an
infinite water medium of density 1 g/cm³.  The energy given to electrons is
deposited where it is released (the secondary-electron range is below 1 mm for
the lines concerned); photons below :data:`PHOTON_CUTOFF_MEV` deposit their
energy where they are; photons beyond the largest tallied radius are counted
as escaped.

Cross sections come from a :class:`PhotonCrossSections` table that the
generator fills from the ``xraylib`` package (Schoonjans et al., Spectrochim
Acta B 2011;66:776) at generation time; this module does not import xraylib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from prrt._typing import FloatArray
from prrt.dosimetry.voxel.dpk_electrons import ELECTRON_REST_MEV, rotate

__all__ = ["PHOTON_CUTOFF_MEV", "PhotonCrossSections", "PhotonTally", "transport_photons"]

#: Photons below this energy deposit their energy where they are (MeV).
PHOTON_CUTOFF_MEV = 5.0e-3


@dataclass(frozen=True)
class PhotonCrossSections:
    """Mass attenuation coefficients of water (cm²/g) and Rayleigh angular tables.

    Parameters
    ----------
    energy_mev
        Log-spaced energy grid.
    photoelectric, compton, rayleigh
        Mass attenuation coefficients per process on that grid (cm²/g).
    rayleigh_cos_table
        ``(n_energy, n_u)`` inverse cumulative distribution of cos θ for Rayleigh
        scattering at each grid energy, tabulated at equally spaced probabilities.
    """

    energy_mev: FloatArray
    photoelectric: FloatArray
    compton: FloatArray
    rayleigh: FloatArray
    rayleigh_cos_table: FloatArray

    def coefficients(self, e_mev: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return (photoelectric, Compton, Rayleigh) coefficients at ``e_mev`` (log-log)."""
        le = np.log(e_mev)
        lg = np.log(self.energy_mev)
        out = tuple(
            np.asarray(np.exp(np.interp(le, lg, np.log(tab))), dtype=np.float64)
            for tab in (self.photoelectric, self.compton, self.rayleigh)
        )
        return out[0], out[1], out[2]

    def sample_rayleigh_cos(self, e_mev: FloatArray, rng: np.random.Generator) -> FloatArray:
        """Sample cos θ of Rayleigh scattering at the nearest tabulated energy."""
        idx = np.clip(
            np.rint(
                np.interp(np.log(e_mev), np.log(self.energy_mev), np.arange(self.energy_mev.size))
            ),
            0,
            self.energy_mev.size - 1,
        ).astype(np.int64)
        n_u = self.rayleigh_cos_table.shape[1]
        u = rng.random(e_mev.size) * (n_u - 1)
        lo = np.floor(u).astype(np.int64)
        hi = np.minimum(lo + 1, n_u - 1)
        f = u - lo
        tab = self.rayleigh_cos_table
        return np.asarray((1.0 - f) * tab[idx, lo] + f * tab[idx, hi], dtype=np.float64)


@dataclass(frozen=True)
class PhotonTally:
    """Energy deposited (MeV, summed over histories and weights) per radial shell.

    ``energy_sq_mev2`` holds the sums of squares of blocks of 1,000 histories.
    """

    edges_cm: FloatArray
    energy_mev: FloatArray
    energy_sq_mev2: FloatArray
    escaped_mev: float
    histories: int


def _sample_klein_nishina(k: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Sample ε = E'/E for Compton scattering of photons of reduced energy k = E/mc²."""
    n = k.size
    eps_out = np.empty(n)
    todo = np.arange(n)
    eps0 = 1.0 / (1.0 + 2.0 * k)
    a1 = -np.log(eps0)
    a2 = a1 + 0.5 * (1.0 - eps0 * eps0)
    while todo.size:
        kk, e0, b1, b2 = k[todo], eps0[todo], a1[todo], a2[todo]
        r1, r2, r3 = rng.random(todo.size), rng.random(todo.size), rng.random(todo.size)
        first = b1 > b2 * r1
        eps = np.where(first, np.exp(-b1 * r2), np.sqrt(e0 * e0 + (1.0 - e0 * e0) * r2))
        one_minus_cos = (1.0 - eps) / (eps * kk)
        sin2 = one_minus_cos * (2.0 - one_minus_cos)
        g = 1.0 - eps * sin2 / (1.0 + eps * eps)
        ok = g >= r3
        eps_out[todo[ok]] = eps[ok]
        todo = todo[~ok]
    return eps_out


def transport_photons(
    *,
    energies_mev: FloatArray,
    weights: FloatArray,
    edges_cm: FloatArray,
    cross_sections: PhotonCrossSections,
    rng: np.random.Generator,
    batch: int = 200_000,
) -> PhotonTally:
    """Transport photons from an isotropic point source in water and tally energy per shell.

    Parameters
    ----------
    energies_mev, weights
        Initial energy and statistical weight of each history.
    edges_cm
        Shell edges (cm) from 0; photons leaving the last edge have escaped.
    cross_sections
        Water cross sections (see :class:`PhotonCrossSections`).
    rng
        Seeded random generator.
    batch
        Histories transported together.

    Examples
    --------
    >>> e = np.geomspace(1e-3, 1.0, 50)
    >>> xs = PhotonCrossSections(e, 1e-9 / e, np.full(50, 0.1), np.full(50, 1e-9),
    ...                          np.tile(np.linspace(-1.0, 1.0, 11), (50, 1)))
    >>> tally = transport_photons(energies_mev=np.full(1000, 0.2), weights=np.ones(1000),
    ...                           edges_cm=np.array([0.0, 1000.0]), cross_sections=xs,
    ...                           rng=np.random.default_rng(0))
    >>> round(float(tally.energy_mev.sum() + tally.escaped_mev), 6)  # energy is conserved
    200.0
    """
    n_shell = edges_cm.size - 1
    energy = np.zeros(n_shell)
    energy_sq = np.zeros(n_shell)
    escaped = 0.0
    r_max2 = float(edges_cm[-1]) ** 2
    block_size = 1000
    for start in range(0, energies_mev.size, batch):
        e = np.asarray(energies_mev[start : start + batch], dtype=np.float64).copy()
        w = np.asarray(weights[start : start + batch], dtype=np.float64).copy()
        n = e.size
        owner = np.arange(n) // block_size
        n_block = int(owner.max()) + 1
        tally = np.zeros(n_block * n_shell)
        pos = np.zeros((n, 3))
        wz = 2.0 * rng.random(n) - 1.0
        phi = 2.0 * math.pi * rng.random(n)
        sz = np.sqrt(1.0 - wz * wz)
        direc = np.stack((sz * np.cos(phi), sz * np.sin(phi), wz), axis=1)

        def deposit(
            points: FloatArray, amount: FloatArray, who: FloatArray, tally: FloatArray = tally
        ) -> None:
            r = np.sqrt(np.einsum("ij,ij->i", points, points))
            idx = np.searchsorted(edges_cm, r, side="right") - 1
            inside = idx < n_shell
            np.add.at(tally, who[inside].astype(np.int64) * n_shell + idx[inside], amount[inside])

        who = owner.astype(np.float64)
        while e.size:
            low = e < PHOTON_CUTOFF_MEV
            if np.any(low):
                deposit(pos[low], e[low] * w[low], who[low])
                keep = ~low
                e, w, pos, direc, who = e[keep], w[keep], pos[keep], direc[keep], who[keep]
                if not e.size:
                    break
            mu_pe, mu_c, mu_r = cross_sections.coefficients(e)
            mu = mu_pe + mu_c + mu_r
            step = -np.log(rng.random(e.size)) / mu
            pos = pos + direc * step[:, None]
            out = np.einsum("ij,ij->i", pos, pos) > r_max2
            if np.any(out):
                escaped += float(np.sum(e[out] * w[out]))
                keep = ~out
                e, w, pos, direc, who = e[keep], w[keep], pos[keep], direc[keep], who[keep]
                mu_pe, mu_c, mu = mu_pe[keep], mu_c[keep], mu[keep]
                if not e.size:
                    break
            u = rng.random(e.size) * mu
            photo = u < mu_pe
            compton = (~photo) & (u < mu_pe + mu_c)
            rayleigh = ~(photo | compton)
            # Photoelectric absorption: all energy deposited here.
            deposit(pos[photo], e[photo] * w[photo], who[photo])
            # Compton: electron energy deposited here, photon scattered.
            if np.any(compton):
                ec = e[compton]
                eps = _sample_klein_nishina(ec / ELECTRON_REST_MEV, rng)
                deposit(pos[compton], ec * (1.0 - eps) * w[compton], who[compton])
                cos_t = 1.0 - (1.0 - eps) / (eps * ec / ELECTRON_REST_MEV)
                direc[compton] = rotate(direc[compton], cos_t, 2.0 * math.pi * rng.random(ec.size))
                e[compton] = ec * eps
            if np.any(rayleigh):
                cos_r = cross_sections.sample_rayleigh_cos(e[rayleigh], rng)
                direc[rayleigh] = rotate(
                    direc[rayleigh], cos_r, 2.0 * math.pi * rng.random(int(rayleigh.sum()))
                )
            keep = ~photo
            e, w, pos, direc, who = e[keep], w[keep], pos[keep], direc[keep], who[keep]
        blocks = tally.reshape(n_block, n_shell)
        energy += blocks.sum(axis=0)
        energy_sq += (blocks * blocks).sum(axis=0)
    return PhotonTally(
        edges_cm=np.asarray(edges_cm, dtype=np.float64),
        energy_mev=energy,
        energy_sq_mev2=energy_sq,
        escaped_mev=escaped,
        histories=int(energies_mev.size),
    )
