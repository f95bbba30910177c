#!/usr/bin/env python3
"""Query set `emoji`: cross-style retrieval. The catalog is Google's (Noto) drawings of object emoji;
the queries are the same emoji drawn by Twitter (Twemoji), OpenMoji and Microsoft (Fluent 3D).

For catalog/emoji, which this script also builds:
  .cache/queries/emoji/catalog-src/{products.json,images/}   the catalog source (Google drawings)
  catalog/emoji/                                               `lookalike index` of it
  .cache/queries/emoji/{queries.csv,about.json,images/<vendor>/}

Sources, each an npm tarball pinned by exact version and sha256 in scripts/checksums.toml (group
`queries`), downloaded and verified through scripts/fetch.py; images are read straight from the
verified archives:
  emoji-datasource-google@16.0.0    img/google/64/*.png (64 px, the largest single images it has;
                                    its emoji.json, byte-identical to emoji-datasource@16.0.0's,
                                    gives names, categories and which vendors have each emoji)
  emoji-datasource-twitter@16.0.0   img/twitter/64/*.png
  @lobehub/fluent-emoji-3d@1.1.0    assets/*.webp (256 px)
  openmoji@17.0.0                   color/svg/*.svg (rendered with resvg, PyPI resvg-py)
Every image is composited onto white at its native size, resized to 224 px (Lanczos) and centred
on a 256 x 256 white canvas (RGB PNG, no alpha: the engine segments it like a photo).

The emoji are picked by hand from emoji.json's categories (an object a shop could sell: clothes,
shoes, bags, accessories, electronics, cameras, furniture, home goods, plants, sports gear,
drinks, kitchenware, food, instruments, tools, stationery, toys; no faces, people, animals,
symbols, flags, vehicles or weapons) and mapped to a catalog category in EMOJI. The nine demo
categories keep their ImageNet class tables from catalog/recipe/categories.json (plus a few ids
listed in EXTRA_CLASSES); eight new ones get their own (NEW_CATEGORIES). An emoji is a product when
Google draws it and at least one other vendor does.

    .cache/bench-venv/bin/python bench/queries/emoji.py [--seed N] [--force] [--no-index]
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NAME = "emoji"
CATALOG = "catalog/emoji"
DEFAULT_SEED = 6
CANVAS = 256
INNER = 224
CATALOG_VENDOR = "google"
QUERY_VENDORS = ("twitter", "openmoji", "fluent")
VENDORS = {
    "google": {"package": "emoji-google", "style": "Noto Emoji (Google)", "images": "Apache-2.0"},
    "twitter": {"package": "emoji-twitter", "style": "Twemoji (Twitter)", "images": "CC-BY-4.0"},
    "openmoji": {"package": "openmoji", "style": "OpenMoji", "images": "CC-BY-SA-4.0"},
    "fluent": {"package": "fluent-emoji-3d", "style": "Fluent Emoji 3D (Microsoft)", "images": "MIT"},
}
ROUTER = {"second_threshold": 0.25, "min_confidence": 0.05}  # as the demo catalog

# emoji short name (emoji.json `short_name`) -> catalog category
EMOJI: dict[str, list[str]] = {
    "apparel": ["necktie", "shirt", "jeans", "dress", "kimono", "bikini", "womans_clothes", "sari", "lab_coat",
                "safety_vest", "scarf", "gloves", "coat", "socks", "one-piece_swimsuit", "briefs", "shorts", "tophat",
                "womans_hat", "billed_cap", "mortar_board", "running_shirt_with_sash", "martial_arts_uniform"],
    "footwear": ["mans_shoe", "athletic_shoe", "high_heel", "sandal", "boot", "hiking_boot", "womans_flat_shoe",
                 "ballet_shoes", "thong_sandal"],
    "bags": ["school_satchel", "purse", "handbag", "pouch", "shopping_bags", "briefcase", "luggage"],
    "accessories": ["crown", "eyeglasses", "dark_sunglasses", "goggles", "lipstick", "ring", "gem", "prayer_beads",
                    "folding_hand_fan", "hair_pick", "watch", "umbrella", "closed_umbrella", "ribbon"],
    "electronics": ["computer", "desktop_computer", "printer", "three_button_mouse", "trackball", "keyboard",
                    "floppy_disk", "minidisc", "cd", "dvd", "battery", "electric_plug", "iphone", "phone",
                    "telephone_receiver", "pager", "fax", "tv", "vhs", "radio", "headphones", "video_game", "joystick"],
    "cameras": ["camera", "camera_with_flash", "video_camera", "movie_camera", "film_projector", "telescope",
                "microscope", "mag"],
    "furniture": ["couch_and_lamp", "bed", "chair", "door", "window", "file_cabinet"],
    "home": ["candle", "bulb", "flashlight", "diya_lamp", "izakaya_lantern", "lotion_bottle", "broom", "basket",
             "roll_of_paper", "soap", "sponge", "razor", "mirror", "plunger", "bucket", "toothbrush",
             "fire_extinguisher", "mantelpiece_clock", "alarm_clock", "hourglass", "timer_clock",
             "frame_with_picture", "wind_chime", "amphora", "toilet", "bathtub", "shower", "wastebasket", "bell",
             "thread", "yarn", "mirror_ball"],
    "plants": ["tulip", "cherry_blossom", "rose", "hibiscus", "sunflower", "blossom", "bouquet", "wilted_flower",
               "lotus", "hyacinth", "seedling", "evergreen_tree", "deciduous_tree", "palm_tree", "cactus", "herb",
               "four_leaf_clover", "shamrock", "potted_plant", "ear_of_rice", "leaves", "maple_leaf", "fallen_leaf",
               "bamboo", "leafless_tree"],
    "sports": ["fishing_pole_and_fish", "bowling", "tennis", "ski", "basketball", "football", "rugby_football",
               "cricket_bat_and_ball", "volleyball", "field_hockey_stick_and_ball", "ice_hockey_stick_and_puck",
               "table_tennis_paddle_and_ball", "badminton_racquet_and_shuttlecock", "sled", "diving_mask",
               "goal_net", "boxing_glove", "curling_stone", "lacrosse", "softball", "flying_disc", "soccer",
               "baseball", "golf", "ice_skate", "bike", "scooter", "skateboard", "roller_skate", "dart",
               "bow_and_arrow"],
    "drinks": ["tea", "sake", "wine_glass", "cocktail", "tropical_drink", "beer", "beers", "baby_bottle", "champagne",
               "clinking_glasses", "tumbler_glass", "glass_of_milk", "cup_with_straw", "beverage_box", "mate_drink",
               "bubble_tea", "coffee"],
    "kitchen": ["fork_and_knife", "knife_fork_plate", "hocho", "spoon", "chopsticks", "jar", "teapot",
                "bowl_with_spoon", "fried_egg", "canned_food"],
    "food": ["apple", "green_apple", "pear", "tangerine", "lemon", "banana", "watermelon", "grapes", "strawberry",
             "melon", "cherries", "peach", "mango", "pineapple", "coconut", "kiwifruit", "tomato", "eggplant",
             "avocado", "cucumber", "broccoli", "leafy_green", "hot_pepper", "bell_pepper", "corn", "carrot",
             "garlic", "onion", "potato", "mushroom", "chestnut", "peanuts", "blueberries", "olive", "ginger_root",
             "pea_pod", "beans", "root_vegetable"],
    "music": ["saxophone", "guitar", "musical_keyboard", "trumpet", "violin", "drum_with_drumsticks", "maracas",
              "flute", "harp", "banjo", "accordion", "long_drum", "microphone", "studio_microphone", "postal_horn"],
    "tools": ["wrench", "hammer", "nut_and_bolt", "hammer_and_wrench", "toolbox", "magnet", "shovel", "axe",
              "carpentry_saw", "screwdriver", "ladder", "hook", "pick", "hammer_and_pick", "chains", "compression",
              "scales", "lock", "unlock", "key", "old_key", "safety_pin"],
    "stationery": ["file_folder", "open_file_folder", "date", "calendar", "spiral_calendar_pad", "card_index",
                   "clipboard", "pushpin", "round_pushpin", "paperclip", "linked_paperclips", "straight_ruler",
                   "triangular_ruler", "card_index_dividers", "spiral_note_pad", "scissors",
                   "lower_left_ballpoint_pen", "lower_left_fountain_pen", "lower_left_paintbrush",
                   "lower_left_crayon", "pencil2", "black_nib", "memo", "ledger", "notebook",
                   "notebook_with_decorative_cover", "closed_book", "book", "green_book", "blue_book", "orange_book",
                   "books", "newspaper", "rolled_up_newspaper", "scroll", "label", "bookmark", "email", "package",
                   "postbox", "mailbox", "card_file_box", "art"],
    "toys": ["teddy_bear", "jigsaw", "yo-yo", "kite", "pinata", "nesting_dolls", "game_die", "chess_pawn",
             "black_joker", "flower_playing_cards", "mahjong", "crystal_ball", "magic_wand", "balloon", "dolls",
             "boomerang", "gift", "8ball", "slot_machine"],
}

# ImageNet-1k ids (checked against models/imagenet_labels.txt by name) added to the demo categories'
# tables for what the emoji catalog has and the demo catalog does not
EXTRA_CLASSES = {
    "apparel": [(806, "sock"), (667, "mortarboard")],
    "electronics": [(528, "dial telephone"), (707, "pay-phone"), (481, "cassette")],
    "home": [(604, "hourglass"), (462, "broom"), (731, "plunger"), (999, "toilet tissue"), (804, "soap dispenser"),
             (862, "torch"), (861, "toilet seat"), (790, "shopping basket")],
    "sports": [(746, "puck"), (456, "bow")],
}
NEW_CATEGORIES = [
    {"name": "bags", "expert": "fashion",
     "classes": [(414, "backpack"), (748, "purse"), (636, "mailbag"), (728, "plastic bag"), (893, "wallet")],
     "prompts": ["a photo of a handbag", "a photo of a backpack", "a product photo of a bag", "a photo of a purse"]},
    {"name": "accessories", "expert": "fashion",
     "classes": [(836, "sunglass"), (837, "sunglasses"), (531, "digital watch"), (679, "necklace"), (629, "lipstick"),
                 (584, "hair slide"), (879, "umbrella"), (826, "stopwatch"), (903, "wig"), (488, "chain")],
     "prompts": ["a photo of sunglasses", "a photo of a wristwatch", "a photo of jewellery", "a photo of an umbrella"]},
    {"name": "kitchen", "expert": "general",
     "classes": [(567, "frying pan"), (909, "wok"), (618, "ladle"), (910, "wooden spoon"), (849, "teapot"),
                 (505, "coffeepot"), (923, "plate"), (659, "mixing bowl"), (809, "soup bowl"), (499, "cleaver"),
                 (544, "Dutch oven"), (469, "caldron"), (647, "measuring cup"), (473, "can opener"),
                 (512, "corkscrew"), (868, "tray"), (828, "strainer")],
     "prompts": ["a photo of kitchenware", "a photo of cutlery", "a photo of a teapot", "a photo of a plate"]},
    {"name": "food", "expert": "general",
     "classes": [(948, "Granny Smith"), (949, "strawberry"), (950, "orange"), (951, "lemon"), (952, "fig"),
                 (954, "banana"), (955, "jackfruit"), (956, "custard apple"), (957, "pomegranate"),
                 (936, "head cabbage"), (937, "broccoli"), (938, "cauliflower"), (939, "zucchini"),
                 (940, "spaghetti squash"), (941, "acorn squash"), (942, "butternut squash"), (943, "cucumber"),
                 (944, "artichoke"), (945, "bell pepper"), (946, "cardoon"), (947, "mushroom"), (987, "corn"),
                 (988, "acorn")],
     "prompts": ["a photo of fruit", "a photo of vegetables", "a photo of fresh produce", "a photo of an apple"]},
    {"name": "music", "expert": "general",
     "classes": [(776, "sax"), (402, "acoustic guitar"), (546, "electric guitar"), (579, "grand piano"),
                 (881, "upright"), (687, "organ"), (566, "French horn"), (875, "trombone"), (513, "cornet"),
                 (889, "violin"), (486, "cello"), (541, "drum"), (542, "drumstick"), (558, "flute"), (641, "maraca"),
                 (594, "harp"), (420, "banjo"), (401, "accordion"), (593, "harmonica"), (577, "gong"), (494, "chime"),
                 (699, "panpipe"), (822, "steel drum"), (650, "microphone")],
     "prompts": ["a photo of a musical instrument", "a photo of a guitar", "a photo of a trumpet",
                 "a photo of a microphone"]},
    {"name": "tools", "expert": "general",
     "classes": [(587, "hammer"), (784, "screwdriver"), (596, "hatchet"), (477, "carpenter's kit"), (677, "nail"),
                 (783, "screw"), (740, "power drill"), (491, "chain saw"), (695, "padlock"),
                 (507, "combination lock"), (726, "plane"), (600, "hook"), (772, "safety pin"), (635, "magnetic compass"),
                 (778, "scale")],
     "prompts": ["a photo of a hand tool", "a photo of a hammer", "a photo of a wrench", "a photo of a padlock"]},
    {"name": "stationery", "expert": "general",
     "classes": [(418, "ballpoint"), (563, "fountain pen"), (749, "quill"), (769, "rule"), (446, "binder"),
                 (549, "envelope"), (709, "pencil box"), (710, "pencil sharpener"), (767, "rubber eraser"),
                 (921, "book jacket"), (917, "comic book"), (922, "menu"), (623, "letter opener"), (454, "bookshop"),
                 (478, "carton"), (692, "packet"), (637, "mailbox")],
     "prompts": ["a photo of stationery", "a photo of a notebook", "a photo of a pen", "a photo of a book"]},
    {"name": "toys", "expert": "general",
     "classes": [(850, "teddy"), (611, "jigsaw puzzle"), (417, "balloon"), (723, "pinwheel"), (865, "toyshop"),
                 (719, "piggy bank"), (800, "slot"), (736, "pool table"), (918, "crossword puzzle")],
     "prompts": ["a photo of a toy", "a photo of a teddy bear", "a photo of a board game", "a photo of a kite"]},
]


def norm_code(code: str) -> str:
    """'1F576-FE0F' -> '1f576' (vendors differ on the emoji presentation selector)."""
    return "-".join(p for p in code.lower().split("-") if p != "fe0f")


def product_id(short_name: str) -> str:
    return "emoji-" + re.sub(r"[^a-z0-9]+", "-", short_name.lower()).strip("-")


def title(name: str) -> str:
    return " ".join(w.capitalize() if w.isalpha() else w for w in name.lower().split())


# ---------------------------------------------------------------------------------------------
# categories


def categories() -> list[dict]:
    labels = [line.strip() for line in common.require(common.MODELS_DIR / "imagenet_labels.txt").read_text().splitlines()]

    def check(i: int, name: str, where: str) -> int:
        names = [n.strip().lower() for n in labels[i].split(",")]
        if name.lower() not in names:
            raise common.QueryError(f"{where}: ImageNet class {i} is {labels[i]!r}, not {name!r}")
        return i

    demo = json.loads((common.ROOT / "catalog" / "recipe" / "categories.json").read_text())
    out = []
    for c in demo:
        if c["name"] not in EMOJI:
            continue
        extra = [check(i, n, c["name"]) for i, n in EXTRA_CLASSES.get(c["name"], [])]
        out.append({**c, "imagenet_classes": c["imagenet_classes"] + extra})
    for c in NEW_CATEGORIES:
        out.append({"name": c["name"], "expert": c["expert"],
                    "imagenet_classes": [check(i, n, c["name"]) for i, n in c["classes"]], "prompts": c["prompts"]})
    owner = {}
    for c in out:
        for i in c["imagenet_classes"]:
            if i in owner:
                raise common.QueryError(f"ImageNet class {i} ({labels[i]}) is in both {owner[i]} and {c['name']}")
            owner[i] = c["name"]
    missing = set(EMOJI) - {c["name"] for c in out}
    if missing:
        raise common.QueryError(f"no category definition for {sorted(missing)}")
    return out


# ---------------------------------------------------------------------------------------------
# sources


class Sources:
    def __init__(self):
        self.pkgs, self.archives = {}, {}
        for v, info in VENDORS.items():
            self.pkgs[v], self.archives[v] = common.ensure_package(info["package"])
        meta = common.ROOT / ".cache" / "sources" / "emoji" / "emoji-datasource-google-16.0.0" / "emoji.json"
        self.emoji_json_sha256 = common.sha256_file(common.require(meta))
        self.emoji = {e["short_name"]: e for e in json.loads(meta.read_text())}

    def member(self, vendor: str, e: dict, names: set[str] | None = None) -> str | None:
        """The archive member holding the vendor's drawing of emoji e, or None."""
        if vendor in ("google", "twitter"):
            return f"package/img/{vendor}/64/{e['image']}" if e.get(f"has_img_{vendor}") else None
        codes = [norm_code(e["unified"])] + ([norm_code(e["non_qualified"])] if e.get("non_qualified") else [])
        index = self.fluent_index if vendor == "fluent" else self.openmoji_index
        for c in codes:
            if c in index:
                return index[c]
        return None

    def list_members(self) -> None:
        import tarfile

        def listing(v, prefix, suffix):
            out = {}
            with tarfile.open(self.archives[v], "r:*") as t:
                for n in t.getnames():
                    if n.startswith(prefix) and n.endswith(suffix):
                        out[norm_code(n[len(prefix):-len(suffix)])] = n
            return out

        self.fluent_index = listing("fluent", "package/assets/", ".webp")
        self.openmoji_index = listing("openmoji", "package/color/svg/", ".svg")


def render(vendor: str, data: bytes) -> Image.Image:
    """A vendor's drawing on white: native size composite, resized to INNER, centred on CANVAS."""
    if vendor == "openmoji":
        import resvg_py

        png = bytes(resvg_py.svg_to_bytes(svg_string=data.decode("utf-8"), width=INNER, height=INNER,
                                          skip_system_fonts=True))
        im = Image.open(io.BytesIO(png))
    else:
        im = Image.open(io.BytesIO(data))
    im = im.convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im).convert("RGB")
    if flat.size != (INNER, INNER):
        flat = flat.resize((INNER, INNER), Image.LANCZOS)
    canvas = Image.new("RGB", (CANVAS, CANVAS), (255, 255, 255))
    canvas.paste(flat, ((CANVAS - INNER) // 2, (CANVAS - INNER) // 2))
    return canvas


# ---------------------------------------------------------------------------------------------
# catalog index


def index_stale(products_json: Path) -> bool:
    """As scripts/setup.sh does for catalog/demo: rebuild when catalog.json is missing or older than
    the products file, the CLI binary or the model manifest."""
    cat = common.ROOT / CATALOG / "catalog.json"
    if not cat.is_file() or not common.LOOKALIKE.is_file():
        return True
    t = cat.stat().st_mtime
    return any(p.stat().st_mtime > t for p in (products_json, common.LOOKALIKE, common.MODELS_DIR / "manifest.toml"))


def build_index(src_dir: Path) -> None:
    common.require(common.LOOKALIKE, "build it: cargo build --release -p lookalike-cli (scripts/setup.sh does)")
    t0 = time.monotonic()
    cmd = [str(common.LOOKALIKE), "index", "--images", str(src_dir / "images"), "--products",
           str(src_dir / "products.json"), "--out", str(common.ROOT / CATALOG)]
    common.log(f"  emoji: {' '.join(common.rel(Path(c)) if '/' in c else c for c in cmd)}")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise common.QueryError(f"lookalike index failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
    os.utime(common.ROOT / CATALOG / "catalog.json")
    common.log(f"  emoji: indexed {CATALOG} in {time.monotonic() - t0:.0f} s")


# ---------------------------------------------------------------------------------------------
# main


def build(seed: int, force: bool, index: bool) -> dict:
    import PIL
    import resvg_py

    cats = categories()
    src = Sources()
    fingerprint = common.sha256_json({
        "generator": common.code_fingerprint(Path(__file__), Path(common.__file__)),
        "seed": seed,
        "packages": {v: src.pkgs[v]["sha256"] for v in VENDORS},
        "categories": cats,
        "libraries": {"numpy": np.__version__, "pillow": PIL.__version__, "resvg_py": resvg_py.__version__},
    })
    have = None if force else common.up_to_date(NAME, fingerprint)
    if have:
        common.log(f"{common.summary_line(have)}: up to date")
    else:
        have = generate(seed, fingerprint, cats, src)
    products_json = common.QUERIES_DIR / NAME / "catalog-src" / "products.json"
    if index and (force or index_stale(products_json)):
        build_index(products_json.parent)
    elif index:
        common.log(f"  emoji: {CATALOG} up to date")
    return have


def generate(seed: int, fingerprint: str, cats: list[dict], src: Sources) -> dict:
    t0 = time.monotonic()
    src.list_members()
    unknown = [s for names in EMOJI.values() for s in names if s not in src.emoji]
    if unknown:
        raise common.QueryError(f"not in emoji.json: {unknown}")
    dup = [s for s in src.emoji if sum(s in v for v in EMOJI.values()) > 1]
    if dup:
        raise common.QueryError(f"emoji in two categories: {dup}")

    # what each vendor has, for every chosen emoji
    chosen = []
    for cat, names in EMOJI.items():
        for s in names:
            e = src.emoji[s]
            have = {v: src.member(v, e) for v in VENDORS}
            chosen.append((cat, s, e, have))
    wanted = {v: {h[v] for _, _, _, h in chosen if h[v]} for v in VENDORS}
    data = {}
    for v in VENDORS:
        data[v] = common.read_members(src.archives[v], lambda n, w=wanted[v]: n in w)
        lost = wanted[v] - set(data[v])
        if lost:
            raise common.QueryError(f"{src.pkgs[v]['archive']} lacks {sorted(lost)[:5]}")

    out = common.SetWriter(NAME)
    cat_dir = out.dir / "catalog-src"
    products, skipped = [], []
    for cat, s, e, have in chosen:
        others = [v for v in QUERY_VENDORS if have[v]]
        if not have[CATALOG_VENDOR] or not others:
            skipped.append({"emoji": s, "why": f"{CATALOG_VENDOR} has it: {bool(have[CATALOG_VENDOR])}, others: {others}"})
            continue
        pid = product_id(s)
        image = f"{pid}.png"
        common.save_image(render(CATALOG_VENDOR, data[CATALOG_VENDOR][have[CATALOG_VENDOR]]), cat_dir / "images" / image)
        gpkg = src.pkgs[CATALOG_VENDOR]
        products.append({
            "id": pid, "name": title(e["name"] or s), "category": cat, "price": None, "currency": None, "gtin": None,
            "image": image, "brand": None,
            "description": f"U+{e['unified'].replace('-', ' U+')} :{s}: ({e['category']} / {e['subcategory']})",
            "source": f"npm {gpkg['spec']} {have[CATALOG_VENDOR].split('/', 1)[1]} "
                      f"({VENDORS[CATALOG_VENDOR]['style']}, {VENDORS[CATALOG_VENDOR]['images']})",
        })
    split = common.split_products(products, seed)
    by_id = {p["id"]: p for p in products}
    for cat, s, e, have in chosen:
        pid = product_id(s)
        if pid not in by_id:
            continue
        for v in QUERY_VENDORS:
            if not have[v]:
                continue
            name = f"images/{v}/{pid}.png"
            common.save_image(render(v, data[v][have[v]]), out.dir / name)
            native = "svg" if v == "openmoji" else list(Image.open(io.BytesIO(data[v][have[v]])).size)
            out.add(name, pid, split[pid], category=cat, emoji=s, unified=e["unified"], transforms=["vendor-style"],
                    vendor=v, style=VENDORS[v]["style"], member=have[v], package=src.pkgs[v]["spec"],
                    native_size=native,
                    render=f"{'rendered by resvg at' if v == 'openmoji' else 'composited on white, Lanczos to'} "
                           f"{INNER} px, centred on {CANVAS}x{CANVAS} white")
    doc = {"name": "Lookalike emoji catalog (Noto Emoji drawings)", "router": ROUTER,
           "categories": [c for c in cats if any(p["category"] == c["name"] for p in products)],
           "products": sorted(products, key=lambda p: ([c["name"] for c in cats].index(p["category"]), p["id"]))}
    (cat_dir / "products.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")

    c = common.counts(out.rows, products)
    c["catalog_products"] = len(products)
    c["per_vendor"] = {v: sum(r["vendor"] == v for r in out.rows) for v in QUERY_VENDORS}
    c["skipped_emoji"] = len(skipped)
    res = out.commit({
        "catalog": CATALOG,
        "catalog_products": f".cache/queries/{NAME}/catalog-src/products.json",
        "catalog_vendor": CATALOG_VENDOR,
        "query_vendors": list(QUERY_VENDORS),
        "generator": "bench/queries/emoji.py",
        "seed": seed,
        "split": {"by": "product", "stratified_by": "category", "tune_fraction": common.TUNE_FRACTION, "seed": seed},
        "inputs_sha256": fingerprint,
        "sources": {v: {"package": src.pkgs[v]["spec"], "archive": src.pkgs[v]["archive"],
                        "sha256": src.pkgs[v]["sha256"], "licence": src.pkgs[v].get("licence"),
                        "style": VENDORS[v]["style"]} for v in VENDORS},
        "emoji_json_sha256": src.emoji_json_sha256,
        "render": {"canvas": CANVAS, "inner": INNER, "background": "white", "format": "RGB PNG"},
        "counts": c,
        "skipped": skipped,
    })
    common.log(f"{common.summary_line(res)}: built in {time.monotonic() - t0:.0f} s")
    return res


def main() -> int:
    def no_index(ap) -> None:
        ap.add_argument("--no-index", action="store_true", help="do not (re)build catalog/emoji")

    return common.cli(__doc__, DEFAULT_SEED, lambda a: build(a.seed, a.force, not a.no_index),
                      force_help="rebuild the set and the index even when up to date", add_args=no_index)


if __name__ == "__main__":
    sys.exit(main())
