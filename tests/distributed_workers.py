"""What each process of the distributed tests runs (a module of its own, so spawned processes can import it).

:func:`spawn` starts ``world_size`` processes with ``torch.multiprocessing.spawn``, joined by a gloo process
group through a file in ``tmp``; each runs :func:`fit_worker` and leaves its results in ``tmp/rank<r>.pt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist


class Interrupted(Exception):
    """Stands in for a kill: raised on every rank after an epoch, once its checkpoint is written."""


def spawn(world_size: int, tmp: Path, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run :func:`fit_worker` in ``world_size`` processes; return each rank's results, in rank order."""
    import torch.multiprocessing as mp

    tmp.mkdir(parents=True, exist_ok=True)
    rendezvous = tmp / f"rendezvous-{len(list(tmp.glob('rendezvous-*')))}"
    mp.spawn(fit_worker, args=(world_size, str(rendezvous), spec, str(tmp)), nprocs=world_size, join=True)
    return [torch.load(tmp / f"rank{rank}.pt", weights_only=False) for rank in range(world_size)]


def fit_worker(rank: int, world_size: int, rendezvous: str, spec: dict[str, Any], tmp: str) -> None:
    import pushpull_viz.train as train_module
    from pushpull_viz.data import ImageTensors, folder_dataloader
    from pushpull_viz.models import build_model

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world_size)
    writes: list[str] = []
    for name in ("atomic_save", "atomic_write_text"):  # count which ranks write files
        original = getattr(train_module, name)

        def recording(obj, path, *args, _original=original, **kwargs):
            writes.append(str(path))
            return _original(obj, path, *args, **kwargs)

        setattr(train_module, name, recording)
    result: dict[str, Any] = {"rank": rank, "writes": writes}
    try:
        if "folder" in spec:  # the ImageNet pipeline through DataLoader workers, sharded per rank
            loaders = {split: folder_dataloader(Path(spec["folder"]) / split, spec["overrides"]["batch_size"],
                                                train=split == "train", pipeline="imagenet",
                                                image_size=spec["image_size"], num_workers=spec.get("workers", 0))
                       for split in ("train", "val")}
            data: Any = (loaders["train"], loaders["val"])
        else:
            train = ImageTensors(*spec["train"], tuple("0123456789"), "train")
            test = ImageTensors(*spec["test"], tuple("0123456789"), "test") if spec.get("test") else None
            data = (train, test)
        if spec.get("fail_rank") == rank:
            data = 123  # a setup error on one rank only
        train_module.seed_everything(0)
        model = build_model(spec.get("model", "lenet-a"), pushpull=spec.get("pushpull", True),
                            num_classes=spec.get("num_classes", 10))

        def stop(row):
            if spec.get("interrupt_after") == row["epoch"]:
                raise Interrupted(f"stopped after epoch {row['epoch']}")

        fitted = train_module.fit(model, data, spec.get("recipe", "lenet-quick"), out=spec.get("out"),
                                  resume=spec.get("resume", False), overwrite=spec.get("overwrite", False),
                                  device="cpu", seed=spec.get("seed", 0), progress=False, on_epoch_end=stop,
                                  **spec.get("overrides", {}))
        result["state"] = {k: v.detach().clone() for k, v in fitted.model.state_dict().items()}
        result["history"] = fitted.history
    except Exception as error:  # noqa: BLE001 - reported to the test
        result["error"] = f"{type(error).__name__}: {error}"
    finally:
        torch.save(result, Path(tmp) / f"rank{rank}.pt")
        dist.destroy_process_group()
