"""Statements about figures, read from sentences.

Each number with a unit is read with the words before it, back to the previous number or clause mark
(，：、); a statement names its subject through the vocabulary (the longest name wins, else the words
back to the previous number, else the subject of the sentence or paragraph so far):

* ``amount``      收入预算 4748.35 万元 / 一般公共服务支出（类）264.87 万元 / “A（类）B（款）C（项）”261.47万元
* ``aspect``      全年预算为 52.00 万元 (a figure of the subject other than its own: the words are data)
* ``change``      比上年预算增加 X 万元 / 公务用车运行费增加 2.30 万元; ``rate``: 增长 Y% / 下降 Y%
* ``same``        与上年预算持平 / 决算数与全年预算数持平
* ``share``       占 44.72% / 占本年支出合计的 100.00%
* ``completion``  完成年初预算的 95.89%
* ``count``       当年预算安排项目共 6 个
* ``list``        人员经费 …，主要包括：基本工资、津贴补贴、…
* ``none``        没有…安排的支出 / 政府性基金预算未安排 / 无“三公”经费财政拨款支出
* ``purpose``     主要用于：… (of a coded item)
* ``unknown``     an amount or percentage the vocabulary cannot tie to a figure (reported as info)
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Iterable, Sequence

from msgspec import Struct

from .sources import Sentence
from .vocabulary import LEVEL_WORDS, NoneTerm, CountTerm, Term, Vocabulary

__all__ = ["Statement", "extract"]

NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
TOKEN = re.compile(NUMBER + r"(万元|元|%|个|辆|台|套|项)")
CLAUSE = re.compile(r"[，,：:、；;。]")
UP, DOWN = ("增加", "增长", "增", "增幅", "增长了"), ("减少", "下降", "减", "降幅", "下降了")
CHANGE_VERB = re.compile(r"(增加|减少|增长|下降|增减)(了)?$")
RATE_VERB = re.compile(r"(增长|下降|增幅|降幅|增减幅度|增长了|下降了)(为)?$")
LEVEL_MARK = re.compile(r"[（(](类|款|项)[）)]")
CHAIN_CUT = re.compile(r"[，,：:、；;。]")
NONE_BEFORE = re.compile(r"(均未安排|未安排|没有安排|不安排)")
NONE_AFTER = re.compile(r"(没有|未安排|无)")
LIST = re.compile(r"(?:主要)?包括[:：](.+)$")
PURPOSE = re.compile(r"主要用于[:：]?(.+)$")
_NOT_NONE_AFTER = ("无数据", "无变化", "无此", "无法")
MAX_NONE_PHRASE = 40
COUNT_CLAUSE = re.compile(r"(\d+[.．、])?(其中)?(共有)?")
ALLOCATION_CLAUSE = re.compile(r"[，,：:；;]")
THRESHOLD = re.compile(r"[（(]?含?[）)]?以[上下]")


class Statement(Struct):
    kind: str
    sentence: Sentence
    term: Term | None = None
    value: Decimal | None = None
    decimals: int = 0
    unit: str = ""
    aspect: str | None = None
    verb: str | None = None
    whole: Term | None = None
    items: tuple[str, ...] = ()
    words: str = ""                 # the words that named the subject, or the phrase of a none/list
    none: NoneTerm | None = None
    count: CountTerm | None = None
    printed: str = ""               # the number as printed ("4748.35万元")
    at: int = 0                     # offset of the statement's number (or words) in the sentence
    end: int = 0

    @property
    def quote(self) -> str:
        return self.sentence.quote(self.at, max(self.end, self.at))

    @property
    def where(self) -> str:
        return self.sentence.where_at(self.at)


class _Names:
    """Longest-match lookup of the vocabulary's names in a piece of text."""

    def __init__(self, terms: Sequence[Term]):
        self.by_name: dict[str, Term] = {}
        for t in terms:
            for n in t.names:
                self.by_name.setdefault(n, t)
        self.ordered = sorted(self.by_name, key=len, reverse=True)

    def find(self, text: str) -> tuple[Term, str, int] | None:
        """The longest name in ``text`` (ties: the later one) with its end position."""
        best = None
        for n in self.ordered:
            if best is not None and len(n) < len(best[1]):
                break
            i = text.rfind(n)
            if i >= 0 and (best is None or i + len(n) > best[2]):
                best = (self.by_name[n], n, i + len(n))
        return best

    def all(self, text: str) -> list[tuple[Term, str]]:
        """Every non-overlapping name in ``text``, longest first."""
        taken = [False] * len(text)
        out = []
        for n in self.ordered:
            start = 0
            while True:
                i = text.find(n, start)
                if i < 0:
                    break
                if not any(taken[i:i + len(n)]):
                    for k in range(i, i + len(n)):
                        taken[k] = True
                    out.append((i, self.by_name[n], n))
                start = i + 1
        return [(t, n) for _, t, n in sorted(out, key=lambda x: x[0])]


class Reader:
    def __init__(self, vocab: Vocabulary, terms: Sequence[Term]):
        self.v = vocab
        self.fixed = [t for t in terms if t.table is None]
        self.rowterms = [t for t in terms if t.table is not None]
        plain = [t for t in self.rowterms if t.level in self._plain_levels() or t.project]
        self.names = _Names(self.fixed + plain)
        self.none_names = {n: nt for nt in vocab.nones for n in nt.names}
        self.count_names = _Names([Term(key=c.names[0], names=c.names, exprs={}) for c in vocab.counts])
        self.counts = {n: c for c in vocab.counts for n in c.names}
        self.aspect_words = sorted(vocab.aspects, key=len, reverse=True)

    def _plain_levels(self) -> set[int]:
        out: set[int] = set()
        for r in self.v.rows:
            out.update(r.plain_levels)
        return out

    # --- names ---------------------------------------------------------------------------------------
    def chain(self, text: str) -> tuple[Term | None, str, int] | None:
        """A coded item named as 一般公共服务支出（类）数据事务（款）行政运行（项）: the row it names."""
        marks = list(LEVEL_MARK.finditer(text))
        if not marks:
            return None
        names: list[tuple[str, int]] = []
        prev = 0
        for m in marks:                    # the words before each （类）/（款）/（项）, back to a clause mark
            piece = text[prev:m.start()]
            cut = [c.end() for c in CHAIN_CUT.finditer(piece)]
            names.append(((piece[cut[-1]:] if cut else piece).lstrip("0123456789.．"), LEVEL_WORDS[m.group(1)]))
            prev = m.end()
        label, level = names[-1]
        words = "".join(f"{n}（{m.group(1)}）" for (n, _), m in zip(names, marks))
        cands = [t for t in self.rowterms if t.level == level and t.label == label]
        if len(cands) > 1:
            above = [n for n, _ in names[:-1]]
            narrowed = [t for t in cands if all(a in t.ancestors for a in above)]
            cands = narrowed or cands
        return (cands[0] if cands else None), words, marks[-1].end()

    def name(self, text: str) -> tuple[Term | None, str, int] | None:
        """The item ``text`` names (a coded chain, else the longest name), its words and where they end."""
        c = self.chain(text)
        if c is not None:
            return c
        return self.names.find(text)

    def aspect(self, text: str) -> str | None:
        for w in self.aspect_words:
            if w in text:
                return self.v.aspects[w]
        return None

    # --- sentences -----------------------------------------------------------------------------------
    def read(self, sentences: Iterable[Sentence]) -> list[Statement]:
        out: list[Statement] = []
        subject: Term | None = None
        paragraph = None
        for s in sentences:
            if s.paragraph != paragraph:
                paragraph, subject = s.paragraph, None
            subject = self._sentence(s, subject, out)
        return out

    def _sentence(self, s: Sentence, subject: Term | None, out: list[Statement]) -> Term | None:
        text = s.text
        pos = 0
        last_change: Statement | None = None
        if s.heading:
            # a heading names the subject of its paragraph (an item, a project)
            first = TOKEN.search(text)
            head = text[:first.start()] if first else text
            named = self.chain(head) or self.names.find(head)
            if named is not None and named[0] is not None and named[0].table is not None:
                subject = named[0]
        for m in TOKEN.finditer(text):
            lead = text[pos:m.start()]
            pos = m.end()
            cut = [c.end() for c in CLAUSE.finditer(lead)]
            seg = lead[cut[-1]:] if cut else lead
            whole_int, frac, unit = m.group(1), m.group(2), m.group(3)
            if THRESHOLD.match(text, m.end()):
                continue            # 单价 100 万元（含）以上: a threshold, not an amount
            value = Decimal(whole_int.replace(",", "") + ("." + frac if frac else ""))
            decimals = len(frac) if frac else 0
            base = dict(sentence=s, value=value, decimals=decimals, unit=unit, printed=m.group(0), at=m.start(),
                        end=m.end())
            if unit in ("万元", "元"):
                if subject is not None and subject.project and self._allocating(text, m.start()):
                    cut = [c.end() for c in ALLOCATION_CLAUSE.finditer(lead)]
                    out.append(Statement("allocation", term=subject, words=lead[cut[-1]:] if cut else lead, **base))
                    continue
                verb = CHANGE_VERB.search(seg)
                if verb:
                    # the item changing: named before the verb, in this clause or since the last number
                    named = self.name(lead[:len(lead) - len(seg) + verb.start()])
                    term = named[0] if named else subject
                    st = Statement("change", term=term, verb=verb.group(1), words=named[1] if named else "", **base)
                    out.append(st)
                    last_change = st
                    subject = term or subject
                    continue
                named = self.name(seg)
                aspect = self.aspect(seg[named[2]:] if named else seg)
                if named is None and aspect is None:
                    named = self.name(lead)
                if aspect is not None:
                    term = named[0] if named else subject
                    out.append(Statement("aspect", term=term, aspect=aspect, words=named[1] if named else "", **base))
                    subject = term or subject
                    continue
                if named is not None:
                    term = named[0]
                    out.append(Statement("amount" if term is not None else "unknown", term=term, words=named[1],
                                         **base))
                    subject = term or subject
                elif subject is not None and seg.strip("其中为是") == "":
                    out.append(Statement("amount", term=subject, words="", **base))
                elif subject is not None and subject.project:
                    out.append(Statement("allocation", term=subject, words=seg, **base))
                else:
                    out.append(Statement("unknown", words=seg, **base))
                continue
            if unit == "%":
                if RATE_VERB.search(seg) and (last_change is not None or subject is not None):
                    ref = last_change
                    out.append(Statement("rate", term=ref.term if ref else subject,
                                         verb=RATE_VERB.search(seg).group(1), aspect=ref.verb if ref else None,
                                         **base))
                    continue
                if "完成" in seg:
                    named = self.name(seg.split("完成")[0])
                    out.append(Statement("completion", term=named[0] if named else subject,
                                         aspect=self.aspect(seg) or self.v.completion_base, words=seg, **base))
                    continue
                if "占" in seg:
                    after = seg[seg.index("占") + 1:]
                    named = self.name(after) if after.strip("的") else None
                    out.append(Statement("share", term=subject, whole=named[0] if named else None,
                                         words=named[1] if named else "", **base))
                    continue
                out.append(Statement("unknown", words=seg, **base))
                continue
            hit = self.count_names.find(lead)
            if hit is not None:
                out.append(Statement("count", count=self.counts[hit[1]], words=hit[1], **base))
                continue
            named = self.name(seg)
            # a count of a named thing is the clause itself ("其中：一般公务用车 0 辆"), not a count in passing
            # ("按编制购置一般公务用车 1 辆")
            if named is not None and named[0] is not None and "count" in named[0].exprs \
                    and COUNT_CLAUSE.fullmatch(seg[:len(seg) - len(named[1])]) and named[2] == len(seg):
                out.append(Statement("count", term=named[0], words=named[1], **base))
                subject = named[0]
        if pos == 0:
            # a heading that names an item or a project: the subject of what follows
            named = self.chain(text) or self.names.find(text)
            if named is not None and named[0] is not None and (named[0].table is not None or s.heading):
                subject = named[0]
        self._same(s, subject, out)
        self._none(s, out)
        self._list(s, subject, out)
        self._purpose(s, subject, out)
        return subject

    def _allocating(self, text: str, at: int) -> bool:
        """The words before ``at`` open a project's 资金分配 (the words are the vocabulary's)."""
        p = self.v.projects
        return p is not None and any(0 <= text.rfind(w, 0, at) for w in p.allocation_words)

    def _same(self, s: Sentence, subject: Term | None, out: list[Statement]) -> None:
        for m in re.finditer("持平", s.text):
            lead = s.text[:m.start()]
            cut = [c.end() for c in CLAUSE.finditer(lead)]
            seg = lead[cut[-1]:] if cut else lead
            if TOKEN.search(s.text, m.end(), m.end() + 12):
                continue           # 持平，增减 0.00 万元: the amount is read as a change
            named = self.name(seg)
            term = named[0] if named and named[0] is not None and not seg.startswith("与") else subject
            out.append(Statement("same", sentence=s, term=term, aspect=self.aspect(seg) or "last", words=seg,
                                 at=m.start() - len(seg), end=m.end()))

    def _none(self, s: Sentence, out: list[Statement]) -> None:
        text = s.text
        seen: set[int] = set()
        spans = [range(m.start(), m.end()) for m in NONE_BEFORE.finditer(text)]
        for m in NONE_BEFORE.finditer(text):
            # "X 未安排" (the thing before) and "未安排 X" (the thing after)
            lead = text[:m.start()]
            cut = [c.end() for c in CLAUSE.finditer(lead)]
            before = lead[cut[-1]:] if cut else lead
            tail = text[m.end():]
            end = CLAUSE.search(tail)
            after = tail[:end.start()] if end else tail
            self._none_phrase(s, before if not after else after, out, seen, m.start())
            if after and before and not TOKEN.search(before):
                self._none_phrase(s, before, out, seen, m.start())
        for m in NONE_AFTER.finditer(text):
            if m.start() in seen or any(m.start() in r for r in spans) or any(text.startswith(w, m.start()) for w in _NOT_NONE_AFTER):
                continue
            if m.group(1) == "无" and m.start() > 0 and text[m.start() - 1] in "并且毫":
                continue
            tail = text[m.end():]
            end = CLAUSE.search(tail)
            self._none_phrase(s, tail[:end.start()] if end else tail, out, seen, m.start())

    def _none_phrase(self, s: Sentence, phrase: str, out: list[Statement], seen: set[int], at: int) -> None:
        # a clause, not a run of table text; "无…的，仍…" is a condition, not a statement
        if not phrase or len(phrase) > MAX_NONE_PHRASE or TOKEN.search(phrase) or phrase.endswith("的"):
            return
        found = False
        for n in sorted(self.none_names, key=len, reverse=True):
            if n in phrase:
                out.append(Statement("none", sentence=s, none=self.none_names[n], words=phrase, at=at,
                                     end=at + len(phrase) + 3))
                found = True
                phrase = phrase.replace(n, "")
        for term, n in self.names.all(phrase):
            out.append(Statement("none", sentence=s, term=term, words=n, at=at, end=at + len(phrase) + 3))
            found = True
        if found:
            seen.add(at)

    def _list(self, s: Sentence, subject: Term | None, out: list[Statement]) -> None:
        m = LIST.search(s.text)
        if m is None or subject is None or subject.list is None:
            return
        body = re.split(r"[；;。]", m.group(1))[0]
        items = tuple(i.strip("等") for i in re.split(r"[、，,]", body) if i.strip("等"))
        out.append(Statement("list", sentence=s, term=subject, items=items, words=body, at=m.start(),
                             end=m.end()))

    def _purpose(self, s: Sentence, subject: Term | None, out: list[Statement]) -> None:
        m = PURPOSE.search(s.text)
        if m is None or subject is None or subject.table is None or TOKEN.search(m.group(1)):
            return
        out.append(Statement("purpose", sentence=s, term=subject, words=m.group(1).rstrip("。；;"), at=m.start(),
                             end=m.end()))


def extract(vocab: Vocabulary, terms: Sequence[Term], sentences: Iterable[Sentence]) -> list[Statement]:
    return Reader(vocab, terms).read(sentences)
