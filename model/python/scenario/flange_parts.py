#!/usr/bin/python3
"""A part the demo model has never seen, for the fine-tuning walk-through:
a hexagonal flange (zinc, brass or black oxide) with a raised hub, a centre
bore and three bolt holes, turned to any angle. Its defects are its own: a
chip broken out of a corner, its fracture face bare and bright (the steel
under zinc plating or black oxide, fresh brass), or an oil stain (dark on
bright metal, a pale residue on black oxide). Drawn by this file alone
(nothing of model/python/demo), so the demo model knows nothing of it.

  /usr/bin/python3 model/python/scenario/flange_parts.py --out DIR --count 300 --split train

writes DIR/images/*.png and DIR/labels.jsonl (model/python/finetune.py's
format), each image asked QUESTIONS.
"""

import argparse
import json
import math
import os
import sys
from typing import Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

DEFECTS = ("chip", "stain")
OK_SHARE = 0.4
SPLIT_SEEDS = {"train": 7100, "test": 7200}
QUESTIONS = {"status": "Is the part OK or NG?", "defect": "Which defect does the part have?"}
FINISHES = {"zinc": (150, 160, 172), "brass": (184, 152, 84), "black oxide": (62, 62, 68)}
FLOORS = [(70, 96, 80), (104, 104, 110), (200, 196, 186), (90, 110, 150), (150, 130, 110)]
SUPERSAMPLE = 3


def answer(defect: str, question_type: str) -> str:
    if question_type == "status":
        return "OK" if defect == "none" else "NG"
    return defect


def floor(rng: np.random.Generator, size: Tuple[int, int], part_grey: float) -> np.ndarray:
    """A work surface whose brightness differs from the part's."""
    choices = [c for c in FLOORS if abs(np.mean(c) - part_grey) > 40]
    base = np.array(choices[rng.integers(len(choices))], np.float32) * rng.uniform(0.9, 1.1)
    width, height = size
    surface = base + rng.normal(0, rng.uniform(1, 5), (height, width, 1))
    if rng.random() < 0.4:  # a perforated or striped mat
        stripes = 5 * (np.arange(width) % int(rng.integers(8, 16)) < 2)
        surface = surface - stripes[None, :, None]
    return surface


def hexagon(centre, radius: float, turn: float):
    return [(centre[0] + radius * math.cos(turn + k * math.pi / 3),
             centre[1] + radius * math.sin(turn + k * math.pi / 3)) for k in range(6)]


def disc(centre, radius: float):
    return (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius)


def chip_polygon(rng, centre, radius: float, turn: float):
    """A notch broken out of one corner: the corner and a ragged line across it."""
    corner = int(rng.integers(6))
    tip = hexagon(centre, radius, turn)[corner]
    depth = rng.uniform(0.26, 0.36) * radius
    points = [tip]
    for side in (-1, 1):
        neighbour = hexagon(centre, radius, turn)[(corner + side) % 6]
        along = depth / radius  # edge length equals the radius
        points.append((tip[0] + (neighbour[0] - tip[0]) * along,
                       tip[1] + (neighbour[1] - tip[1]) * along))
    inward = (centre[0] - tip[0], centre[1] - tip[1])
    middle = ((points[1][0] + points[2][0]) / 2, (points[1][1] + points[2][1]) / 2)
    bite = rng.uniform(0.05, 0.15)
    ragged = (middle[0] + inward[0] * bite, middle[1] + inward[1] * bite)
    return [points[0], points[1], ragged, points[2]]


def fracture_mask(rng, size, chip) -> np.ndarray:
    """The broken surface along a chip's break, seen from above: a rough band
    on the part's side of the break line (the corner breaks off at a slant)."""
    tip, start, ragged, end = chip
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    edge = math.dist(tip, start)
    for a, b in ((start, ragged), (ragged, end)):
        width = max(1, int(rng.uniform(0.6, 0.8) * edge))
        draw.line([a, b], fill=255, width=width)
    rough = rng.uniform(0.6, 1.0, (size[1] // 8 + 1, size[0] // 8 + 1))
    rough = np.kron(rough, np.ones((8, 8)))[:size[1], :size[0]]
    return np.asarray(mask, np.float32) / 255.0 * rough


def fracture_colour(finish: np.ndarray) -> np.ndarray:
    """Bare metal where the corner broke off: steel under zinc or black oxide,
    brighter, untarnished brass under brass."""
    if finish[0] > finish[2] + 40:  # brass
        return np.array([236.0, 206.0, 130.0])
    return np.array([218.0, 220.0, 224.0])


def stain_mask(rng, size, centre, radius: float) -> np.ndarray:
    """A soft, irregular blot on the flange face between the hub and the rim."""
    width, height = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    angle = rng.uniform(0, 2 * math.pi)
    distance = rng.uniform(0.5, 0.62) * radius
    spot = (centre[0] + distance * math.cos(angle), centre[1] + distance * math.sin(angle))
    for _ in range(int(rng.integers(3, 6))):
        offset = rng.normal(0, 0.05 * radius, 2)
        r = rng.uniform(0.08, 0.13) * radius
        draw.ellipse(disc((spot[0] + offset[0], spot[1] + offset[1]), r), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(0.02 * radius))
    return np.asarray(mask, np.float32) / 255.0


def stain_colour(finish: np.ndarray) -> np.ndarray:
    """Dark oil on bright metal; on black oxide the pale residue it leaves."""
    if np.mean(finish) < 100:
        return np.array([176.0, 164.0, 132.0])
    return np.array([64.0, 44.0, 20.0])


def render(rng: np.random.Generator) -> Tuple[Image.Image, str]:
    """One camera image of a flange and its defect ("none" when OK)."""
    defect = "none" if rng.random() < OK_SHARE else DEFECTS[rng.integers(len(DEFECTS))]
    width = int(rng.integers(220, 301))
    height = int(width * rng.uniform(0.75, 1.33))
    s = SUPERSAMPLE
    big = (width * s, height * s)
    finish = list(FINISHES)[rng.integers(len(FINISHES))]
    colour = np.array(FINISHES[finish], np.float32) * rng.uniform(0.9, 1.1)
    radius = rng.uniform(0.36, 0.44) * min(width, height) * s
    centre = (big[0] / 2 + rng.uniform(-0.06, 0.06) * big[0],
              big[1] / 2 + rng.uniform(-0.06, 0.06) * big[1])
    turn = rng.uniform(0, math.pi / 3)

    body = Image.new("L", big, 0)
    draw = ImageDraw.Draw(body)
    draw.polygon(hexagon(centre, radius, turn), fill=255)
    chip = chip_polygon(rng, centre, radius, turn) if defect == "chip" else None
    if chip:
        draw.polygon(chip, fill=0)
    draw.ellipse(disc(centre, 0.22 * radius), fill=0)
    for k in range(3):
        angle = turn + math.pi / 6 + k * 2 * math.pi / 3
        draw.ellipse(disc((centre[0] + 0.72 * radius * math.cos(angle),
                           centre[1] + 0.72 * radius * math.sin(angle)), 0.085 * radius), fill=0)
    hub = Image.new("L", big, 0)
    ImageDraw.Draw(hub).ellipse(disc(centre, 0.4 * radius), fill=255)
    ImageDraw.Draw(hub).ellipse(disc(centre, 0.22 * radius), fill=0)

    yy, xx = np.mgrid[0:big[1], 0:big[0]].astype(np.float32)
    light = rng.uniform(0, 2 * math.pi)
    shade = 1.0 + 0.18 * ((xx - centre[0]) * math.cos(light) + (yy - centre[1]) * math.sin(light)) / radius
    metal = colour[None, None, :] * shade[..., None]
    metal = metal * (1 + 0.12 * np.asarray(hub, np.float32)[..., None] / 255.0)
    if chip:
        face = fracture_mask(rng, big, chip)[..., None]
        metal = metal * (1 - face) + fracture_colour(colour) * face
    if defect == "stain":
        blot = 0.8 * stain_mask(rng, big, centre, radius)[..., None]
        metal = metal * (1 - blot) + stain_colour(colour) * blot

    alpha = np.asarray(body, np.float32)[..., None] / 255.0
    shadow = np.asarray(body.filter(ImageFilter.GaussianBlur(4 * s)), np.float32)[..., None] / 255.0
    shift = int(rng.integers(2, 6)) * s
    shadow = np.roll(np.roll(shadow, shift, axis=0), shift, axis=1)
    scene = floor(rng, big, float(np.mean(colour))) * (1 - 0.4 * shadow)
    scene = scene * (1 - alpha) + metal * alpha
    image = Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).resize((width, height),
                                                                            Image.BOX)
    gain = rng.uniform(0.85, 1.15)
    pixels = np.asarray(image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.8))), np.float32)
    pixels = pixels * gain + rng.normal(0, rng.uniform(1.5, 5), (height, width, 1))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), defect


def write_dataset(out: str, count: int, split: str) -> None:
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    with open(os.path.join(out, "labels.jsonl"), "w", encoding="utf-8") as labels:
        for index in range(count):
            image, defect = render(np.random.default_rng([SPLIT_SEEDS[split], index]))
            name = os.path.join("images", f"flange-{split}-{index:04d}.png")
            image.save(os.path.join(out, name))
            for question_type, question in QUESTIONS.items():
                labels.write(json.dumps({"image": name, "question": question,
                                         "answer": answer(defect, question_type)}) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="dataset directory to write")
    parser.add_argument("--count", type=int, default=300, help="images")
    parser.add_argument("--split", default="train", choices=sorted(SPLIT_SEEDS),
                        help="train (to fine-tune on) or test (held out)")
    args = parser.parse_args(argv)
    write_dataset(args.out, args.count, args.split)
    print(f"wrote {args.count} flange images to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
