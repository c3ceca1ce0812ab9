"""The training report: loss curve (PNG), accuracy per question type (JSON and Markdown)."""

import json
import os
from typing import Dict, List, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

Accuracy = Dict[str, float]  # question type (and "overall") -> exact-match share


def write_loss_curve(path: str, losses: List[Tuple[int, float]], title: str) -> None:
    steps = [s for s, _ in losses]
    values = [v for _, v in losses]
    window = 20
    smooth = [sum(values[max(0, i - window + 1):i + 1]) / len(values[max(0, i - window + 1):i + 1])
              for i in range(len(values))]
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot(steps, values, alpha=0.3, label="loss per step")
    axes.plot(steps, smooth, label=f"mean of {window} steps")
    axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("answer cross-entropy")
    axes.set_title(title)
    axes.legend()
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


def write_report(directory: str, summary: Dict, losses: List[Tuple[int, float]],
                 accuracies: Dict[str, Accuracy]) -> None:
    os.makedirs(directory, exist_ok=True)
    write_loss_curve(os.path.join(directory, "loss_curve.png"), losses,
                     f"{summary['name']} ({summary['path']} path)")
    with open(os.path.join(directory, "report.json"), "w") as f:
        json.dump({**summary, "accuracy": accuracies, "loss": losses}, f, indent=1)
        f.write("\n")
    with open(os.path.join(directory, "report.md"), "w") as f:
        f.write(f"# Training report: {summary['name']} ({summary['path']} path)\n\n")
        for key in ("steps", "images_per_step", "train_images", "parameters", "wall_seconds",
                    "cpu_seconds", "threads", "command"):
            f.write(f"- {key}: {summary[key]}\n")
        f.write("\nExact-match accuracy (greedy) per question type:\n\n")
        f.write(markdown_table(accuracies) + "\n\n![loss curve](loss_curve.png)\n")
