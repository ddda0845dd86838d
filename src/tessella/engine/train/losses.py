"""Losses of the embedding method: Lovász-hinge around medoid centres, sigma smoothness, seeds."""

from __future__ import annotations

import torch

__all__ = ["lovasz_hinge_rows", "embedding_loss"]


def lovasz_hinge_rows(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Lovász hinge (Berman et al. 2018) per row: ``(K, N)`` logits, 0/1 labels -> ``(K,)``."""
    signs = 2.0 * labels - 1.0
    errors = 1.0 - logits * signs
    errors_sorted, perm = torch.sort(errors, dim=1, descending=True)
    gt_sorted = torch.gather(labels, 1, perm)
    gts = gt_sorted.sum(dim=1, keepdim=True)
    intersection = gts - gt_sorted.cumsum(dim=1)
    union = gts + (1.0 - gt_sorted).cumsum(dim=1)
    jaccard = 1.0 - intersection / union
    jaccard = torch.cat([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], dim=1)
    return (torch.relu(errors_sorted) * jaccard).sum(dim=1)


def embedding_loss(
    raw: torch.Tensor,
    labels: torch.Tensor,
    centres: torch.Tensor,
    grid_spacing: tuple[float, ...],
    weights: tuple[float, float, float] = (1.0, 10.0, 1.0),
) -> tuple[torch.Tensor, dict[str, float]]:
    """EmbedSeg's loss for a batch.

    ``raw``: network output ``(B, 2*ndim + 1, *S)``; ``labels``: ``(B, *S)`` instance ids,
    -1 on pixels left out of the loss (a crop's padding beyond a small image);
    ``centres``: ``(B, *S)`` bool, True at each instance's medoid pixel.
    """
    from ..methods.embedding import SIGMA_SCALE

    raw = raw.float()
    batch, ndim = raw.shape[0], labels.dim() - 1
    spatial = raw.shape[2:]
    axes = [
        torch.arange(n, device=raw.device, dtype=torch.float32) * s
        for n, s in zip(spatial, grid_spacing)
    ]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij")).reshape(ndim, -1)
    totals = {"instance": 0.0, "var": 0.0, "seed": 0.0}
    loss = raw.new_zeros(())
    for b in range(batch):
        offsets = torch.tanh(raw[b, :ndim]).reshape(ndim, -1)
        sigma = raw[b, ndim : 2 * ndim].reshape(ndim, -1)
        seed = torch.sigmoid(raw[b, 2 * ndim]).reshape(-1)
        lab = labels[b].reshape(-1)
        is_centre = centres[b].reshape(-1)
        pixels = grid
        keep = lab >= 0
        if not bool(keep.all()):  # ignored pixels: in no instance's loss, nor the seed's
            offsets, sigma, seed = offsets[:, keep], sigma[:, keep], seed[keep]
            lab, is_centre, pixels = lab[keep], is_centre[keep], grid[:, keep]
        embedding = pixels + offsets
        background = lab == 0
        seed_loss = (seed[background] ** 2).sum()
        ids = torch.unique(lab)
        ids = ids[ids > 0]
        instance_loss = raw.new_zeros(())
        var_loss = raw.new_zeros(())
        if len(ids):
            masks = (lab[None, :] == ids[:, None]).float()  # (K, N)
            sizes = masks.sum(dim=1)
            centre_pixels = torch.nonzero(is_centre & (lab > 0)).squeeze(1)
            centre_xy = pixels[:, centre_pixels].T  # (M, ndim)
            centre_ids = lab[centre_pixels]
            index = torch.searchsorted(ids, centre_ids)
            centre = (masks @ pixels.T) / sizes[:, None]  # fallback: centroid
            centre[index] = centre_xy
            sigma_mean = (masks @ sigma.T) / sizes[:, None]  # (K, ndim)
            var_loss = (
                (masks * ((sigma[None] - sigma_mean[:, :, None]) ** 2).sum(dim=1)).sum(dim=1)
                / sizes
            ).mean()
            # exp(89) is infinite in float32, and 0 x inf is NaN: a sigma that large (a
            # small network early in training) would make the whole loss NaN
            scale = torch.exp((SIGMA_SCALE * sigma_mean).clamp(max=40.0))  # (K, ndim)
            dist = ((embedding[None] - centre[:, :, None]) ** 2 * scale[:, :, None]).sum(dim=1)
            phi = torch.exp(-dist)  # (K, N)
            instance_loss = lovasz_hinge_rows(2 * phi - 1, masks).mean()
            own_phi = (phi * masks).sum(dim=0)  # each foreground pixel's own membership
            foreground = ~background
            seed_loss = (
                seed_loss + 10.0 * ((seed[foreground] - own_phi[foreground].detach()) ** 2).sum()
            )
        seed_loss = seed_loss / max(1, len(lab))
        sample = weights[0] * instance_loss + weights[1] * var_loss + weights[2] * seed_loss
        loss = loss + sample / batch
        totals["instance"] += float(instance_loss.detach()) / batch
        totals["var"] += float(var_loss.detach()) / batch
        totals["seed"] += float(seed_loss.detach()) / batch
    return loss, totals
