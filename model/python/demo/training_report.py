"""The training report: loss curve (PNG), accuracy per question type (JSON and Markdown)."""

import json
import os
from typing import Dict, List, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

Accuracy = Dict[str, float]  # question type (and "overall") -> exact-match share


def write_loss_curve(path: str, losses: Dict[str, List[Tuple[int, float]]], title: str) -> None:
    """One panel per training stage: the loss per step and its running mean."""
    window = 20
    figure, panels = plt.subplots(1, len(losses), figsize=(6 * len(losses), 4), squeeze=False)
    for axes, (stage, curve) in zip(panels[0], losses.items()):
        steps = [s for s, _ in curve]
        values = [v for _, v in curve]
        smooth = [sum(values[max(0, i - window + 1):i + 1]) / len(values[max(0, i - window + 1):i + 1])
                  for i in range(len(values))]
        axes.plot(steps, values, alpha=0.3, label="loss per step")
        axes.plot(steps, smooth, label=f"mean of {window} steps")
        axes.set_yscale("log")
        axes.set_xlabel("step")
        axes.set_ylabel("cross-entropy")
        axes.set_title(stage)
        axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def markdown_table(accuracies: Dict[str, Accuracy]) -> str:
    """One column per evaluated set, one row per question type."""
    names = list(accuracies)
    types = list(next(iter(accuracies.values())))
    lines = ["| question type | " + " | ".join(names) + " |",
             "| --- | " + " | ".join("---:" for _ in names) + " |"]
    for question_type in types:
        cells = [f"{100 * accuracies[name][question_type]:.1f}%" for name in names]
        lines.append(f"| {question_type} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(directory: str, summary: Dict, losses: Dict[str, List[Tuple[int, float]]],
                 accuracies: Dict[str, Accuracy]) -> None:
    os.makedirs(directory, exist_ok=True)
    write_loss_curve(os.path.join(directory, "loss_curve.png"), losses,
                     f"{summary['name']} ({summary['path']} path)")
    with open(os.path.join(directory, "report.json"), "w") as f:
        json.dump({**summary, "accuracy": accuracies, "loss": losses}, f, indent=1)
        f.write("\n")
    with open(os.path.join(directory, "report.md"), "w") as f:
        f.write(f"# Training report: {summary['name']} ({summary['path']} path)\n\n")
        for key in ("vision_steps", "vision_batch", "steps", "images_per_step", "train_images",
                    "parameters", "data_seconds", "wall_seconds", "cpu_seconds", "processes", "threads",
                    "command"):
            f.write(f"- {key}: {summary[key]}\n")
        f.write("\nExact-match accuracy (greedy) per question type:\n\n")
        f.write(markdown_table(accuracies) + "\n\n![loss curve](loss_curve.png)\n")
