"""Every quantitative target of the four plans is evaluated by its scenario or listed in it.

The inventory below is the one reviewed list of the plans' quantitative targets: a number, or a
direction that can be measured ("reduceres", "færre", "skal øges"), set as a target, success
criterion, fokusmål or budget figure. For each it gives the plan's words (short), where they
stand, and either the names of the scenario's targets that evaluate it or the `target` of the
scenario's `not_evaluated` entry that says why it cannot. The tests fail when a plan target is in
neither place, and when a scenario has a target or a not_evaluated entry the inventory does not
know, so the list and the scenarios stay in step.

Not listed, because they set no quantity to meet: the plans' headings and aims that their own
targets make measurable (the minister's goals, Dragør's "Målsætninger", Køge's "pejlemærker"),
case rules that are practice rather than targets (Lyngby-Taarbæk's four meetings in the first
half-year, its nytteindsats for all jobparate), expected figures that are not targets (Tårnby's
29 refugees), Køge's 2017 outcomes (history) and its fight against social fraud ("Hvis muligt
formuleres der et konkret mål", no target yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.contract.loader import load_scenario
from sim.contract.schema import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

TAARNBY_SEED = "000_3d92a26fc65fdf2b.txt"
DRAGOER_SEED = "001_3ddccec1d992ebc2.txt"
LYNGBY_SEED = "002_f7fb0ae2ec71eace.txt"
KOEGE_SEED = "003_ac4e23b05c791a71.txt"


@dataclass(frozen=True, slots=True)
class PlanTarget:
    """One quantitative target of a plan, and how its scenario deals with it."""

    words: str
    """The plan's words, short (for a target not evaluated: the scenario entry's `target`)."""
    section: str
    """Where it stands in the seed."""
    evaluated_by: tuple[str, ...] = ()
    """The names of the scenario targets that evaluate it (empty: listed in not_evaluated)."""

    @property
    def listed(self) -> bool:
        """True when the scenario lists it in not_evaluated instead of evaluating it."""
        return not self.evaluated_by


def evaluated(words: str, section: str, *names: str) -> PlanTarget:
    return PlanTarget(words, section, names)


def not_evaluated(words: str, section: str) -> PlanTarget:
    return PlanTarget(words, section)


# Seed 000, Tårnby Kommune, Beskæftigelsesplan 2018 (the sections' "Resultatmål/Resultatkrav"
# and the "Oversigt over resultatkrav i 2018").
S1, S2, S3 = ("1. Flere personer skal i beskæftigelse ...", "2. Virksomhederne skal sikres ...",
              "3. Flere flygtninge og familiesammenførte ...")
S4, S5 = "4. Borgere med problemer ud over ledighed ...", "5. Et særligt fokus på modtagere af sygedagpenge"
TAARNBY = (
    evaluated(
        "Et overordnet fald i forsørgelsesmodtagere på 2,6 % svarende til 2.463 helårspersoner",
        f"{S1}, resultatmål Tårnby",
        "Fald i forsørgelsesmodtagere på 2,6 % (2.463 helårspersoner)"),
    not_evaluated("Effekten af 6-ugers jobrettet uddannelse skal være højere end i 2017", f"{S2}, fælles"),
    not_evaluated(
        "50 % af de unge som påbegynder brobygningsforløb opstarter i uddannelse eller beskæftigelse",
        f"{S2}, fælles"),
    not_evaluated("Andelen af interne fleksjobformidlinger skal være stigende", f"{S2}, fælles"),
    not_evaluated(
        "Andelen af ledige fleksjobberettigede skal svare til landsgennemsnittet",
        f"{S2}, fælles"),
    evaluated(
        "Andelen af dagpengemodtagere med et års ledighed reduceres i forhold til 2017",
        f"{S2}, fælles",
        "Dagpengemodtagere med over et års ledighed ned med 2,6 % (andelen reduceres i forhold til 2017)"),
    not_evaluated("Tilbagefaldsprocenten på ungeområdet reduceres i forhold til 2017", f"{S2}, fælles"),
    not_evaluated(
        "Flere borgere omfattet af Integrationsloven skal påbegynde ordinær beskæftigelse eller uddannelse "
        "(inkl. IGU) i sammenligning med tallet for 2017",
        f"{S3}, fælles"),
    evaluated(
        "Den gennemsnitlige medfinansieringsgrad skal maksimalt være 74,3 %",
        f"{S4}, resultatkrav Tårnby",
        "Gennemsnitlig medfinansieringsgrad højst 74,3 %"),
    not_evaluated(
        "Andelen af ydelsesmodtagere, som indstilles til fleksjob med arbejdsgivererklæring, skal være 40 "
        "% i 2018",
        f"{S4}, resultatkrav Tårnby"),
    not_evaluated(
        "Bedre ressourceforløb: andelen med ordinære timer skal ved udgangen af 2018 udgøre 5 %",
        f"{S4}, fælles"),
    not_evaluated(
        "Bedre ressourceforløb: andelen i virksomhedsrettet indsats skal i oktober 2018 være 32 %",
        f"{S4}, fælles"),
    not_evaluated(
        "Bedre ressourceforløb: andelen med mentorstøtte skal i oktober 2018 være 5 %",
        f"{S4}, fælles"),
    not_evaluated(
        "Flere skal med: 70 % af gruppe 1 skal have været i virksomhedsrettet aktivering i løbet af 2018",
        f"{S4}, fælles"),
    not_evaluated(
        "Flere skal med: andelen af gruppe 1 med ordinære timer skal udgøre 35 % i 2018",
        f"{S4}, fælles"),
    not_evaluated(
        "Flere skal med: 40 % af gruppe 2 skal forelægges rehabiliteringsteam inden udgangen af 2018",
        f"{S4}, fælles"),
    evaluated(
        "Antallet af sygedagpengemodtagere i Tårnby skal gennemsnitlig være 509 helårspersoner",
        f"{S5}, resultatkrav Tårnby",
        "Sygedagpenge i Tårnby i gennemsnit højst 509 helårspersoner"),
    evaluated(
        "Den gennemsnitlige medfinansieringsgrad på sygedagpenge i Tårnby skal højst være 61,7 %",
        f"{S5}, resultatkrav Tårnby",
        "Medfinansieringsgrad på sygedagpenge højst 61,7 %"),
    not_evaluated(
        "Sammen om fastholdelse: 70 % har deres første opfølgningssamtale på arbejdspladsen",
        f"{S5}, fælles"),
    not_evaluated(
        "Sammen om fastholdelse: 53 % af sygedagpengemodtagerne har en virksomhedsrettet indsats inden 13. "
        "sygefraværsuge",
        f"{S5}, fælles"),
)

# Seed 001, Dragør Kommune, Beskæftigelsesplan 2022 og 2023 (each section's "Succeskriterier",
# Indsatsteamet's case rules, and the fokusmål of "Benchmarking og fokusmål").
JOB = "Flere ledige skal i job eller uddannelse"
SICK = "Forebyggelse og fastholdelse på sygedagpengeområdet"
EDGE = "Færre borgere på kanten af arbejdsmarkedet"
FIRMS, YOUNG, INTEGRATION = ("Den virksomhedsrettede indsats", "Indsatsen for unge under 30 år",
                             "En beskæftigelsesrettet integrationsindsats")
FOKUS = "Benchmarking og fokusmål"
DRAGOER = (
    evaluated(
        "Antallet af fuldtidspersoner skal ved udgangen af 2023 være faldet med mindst 250 sammenlignet "
        "med 2021 (the joint jobcentre's target: as written, and as Dragør's share)",
        JOB,
        "Ledige (a-dagpenge og jobparate kontanthjælp) ned med mindst 250 fra 2021 til december 2023 (som "
        "skrevet, hele jobcentrets mål)",
        "Dragørs andel af de 250: ledige (a-dagpenge og jobparate kontanthjælp) ned med mindst 50 fra 2021 "
        "til december 2023"),
    not_evaluated(
        "Alle ledige kan få adgang til digital jobsøgningsplatform og/eller håndholdt hjælp i et "
        "jobsøgningsværksted",
        JOB),
    not_evaluated("Øget aktivitet i antallet af uddannelsesløft og voksenlærlingeforløb", JOB),
    evaluated(
        "Den gennemsnitlige varighed på ny-sygemeldte skal falde med 1 uge frem til udgangen af 2023",
        SICK,
        "Ny-sygemeldtes varighed ned med 1 uge (forløb startet i 2023 mod 2021)"),
    not_evaluated(
        "Omgørelsesprocenten på klagesager i Ankestyrelsen skal ved udgangen af 2023 maksimalt svare til "
        "landsgennemsnittet",
        SICK),
    not_evaluated("Flere borgere med handicap er indtrådt eller fastholdt på arbejdsmarkedet", SICK),
    evaluated(
        "Første samtale inden for 14 dage efter målgruppeskift er foretaget i 90 % af sagerne",
        EDGE,
        "Indsatsteamet: første samtale inden for 14 dage i 90 % (2022)",
        "Indsatsteamet: første samtale inden for 14 dage i 90 % (2023)"),
    not_evaluated(
        "Afgivelse af tilbud, f.eks. løntilskud, praktik mm. inden 6 uger fra målgruppeskift",
        f"{EDGE}, krav i hver enkelt sag"),
    evaluated(
        "Der leveres en aktiv indsats i et sådant omfang, at der leves op til fokusmålet",
        EDGE,
        "Fokusmål, Indsatsteamet: under 20 % uden aktivt tilbud i 12 mdr. (2023)"),
    not_evaluated(
        "Den i lovgivningen fastsatte sagsbehandlingstid for sager til Rehabiliteringsteamet er frem til "
        "udgangen af 2023 overholdt i 95 % af sagerne",
        EDGE),
    not_evaluated(
        "Med udgangen af 2023 skal jobcentret have været i kontakt med 2/3 af Tårnby og Dragør Kommuners "
        "virksomheder med mere end 3 ansatte",
        FIRMS),
    not_evaluated(
        "Der skal i gennemsnit hver måned være 50 nye jobordre tilgængelige for jobkonsulenterne",
        FIRMS),
    not_evaluated("Formidlingsgraden af de jobordrer der hentes hjem, skal ligge på 90 %", FIRMS),
    not_evaluated(
        "Den procentvise andel af jobparate borgere der ansættes på virksomhederne, skal være 20 %",
        FIRMS),
    not_evaluated("Andelen af unge på offentlig forsørgelse skal under 7,4 %", YOUNG),
    not_evaluated("Alle 25-årige skal have gennemført en ungdomsuddannelse (Servicemål 2022)", YOUNG),
    not_evaluated(
        "I 2030 skal 90 % af de 25-årige have gennemført en ungdomsuddannelse, de resterende 10 % være i "
        "beskæftigelse",
        YOUNG),
    evaluated(
        "Den gennemsnitlige varighed på selvforsørgelses- og hjemrejseydelse samt overgangsydelse skal "
        "nedbringes med 10 uger (59,5 uger i 2021)",
        INTEGRATION,
        "Varighed på selvforsørgelses- og hjemrejseydelse ned med 10 uger (59,5 → 49,5)"),
    not_evaluated(
        "Den gennemsnitlige varighed hos kvinder på selvforsørgelses- og hjemrejseydelse samt "
        "overgangsydelse skal nedbringes med 10 uger (fra 68,9 uger i 2021)",
        INTEGRATION),
    not_evaluated(
        "Der vejledes om repatriering til alle i målgruppen ved samtaler i jobcenteret",
        INTEGRATION),
    evaluated(
        "Fokusmål 1: under 20 pct. med mindst 12 måneders anciennitet uden et aktivt tilbud (eller 6 uger "
        "/ 225 timers beskæftigelse) de seneste 12 måneder",
        FOKUS,
        "Fokusmål, Indsatsteamet: under 20 % uden aktivt tilbud i 12 mdr. (2023)",
        "Fokusmål, øvrige: under 20 % uden aktivt tilbud i 12 mdr. (2023)"),
    evaluated(
        "Fokusmål 2: under 20 pct. med mindst 12 måneders anciennitet med færre end fire samtaler de "
        "seneste 12 måneder",
        FOKUS,
        "Fokusmål, Indsatsteamet: under 20 % med færre end 4 samtaler i 12 mdr. (2023)",
        "Fokusmål, øvrige: under 20 % med færre end 4 samtaler i 12 mdr. (2023)"),
)

# Seed 002, Lyngby-Taarbæk Kommune, Beskæftigelsesplan 2020 (Bilag A: Mål 1–7 and følgemål a, b).
WORKFORCE, YOUTH, REFUGEES, DISABLED = (
    "Bilag A, Virksomhederne skal sikres ...", "Bilag A, Flere unge skal i uddannelse eller beskæftigelse",
    "Bilag A, Flere flygtninge og familiesammenførte ...", "Bilag A, Flere personer med handicap ...")
LYNGBY = (
    evaluated(
        "Mål 1: Antallet af personer der modtager offentlig forsørgelse skal forblive uændret eller lavere "
        "end antallet opgjort januar 2020",
        WORKFORCE,
        "Mål 1: offentligt forsørgede i januar 2021 uændret eller lavere end januar 2020"),
    evaluated(
        "Mål 2: Antallet af jobparate ledige med mere end 52 ugers ledighed skal falde med 5 pct. fra "
        "januar 2020 til januar 2021",
        WORKFORCE,
        "Mål 2: jobparate ledige over 52 uger ned med 5 % (januar 2020 → januar 2021)"),
    evaluated(
        "Mål 3: Andelen af sygemeldte skal falde med 4 pct. fra januar 2020 til januar 2021",
        WORKFORCE,
        "Mål 3: sygemeldte ned med 4 % (januar 2020 → januar 2021)"),
    not_evaluated(
        "Mål 4: 8 pct. af de aktivitetsparate borgere skal være i delvis beskæftigelse i 2020",
        WORKFORCE),
    not_evaluated(
        "Mål 5: Antallet af unge under 30 år på offentlig forsørgelse skal falde med 6 pct. fra januar "
        "2020 til januar 2021",
        YOUTH),
    not_evaluated(
        "Mål 6: 40 pct. af flygtninge og familiesammenførte omfattet af integrationsloven skal være i "
        "beskæftigelse i 2020 (fordelt på køn)",
        REFUGEES),
    not_evaluated(
        "Følgemål a: andelen af jobparate kvinder med ikke-vestlig baggrund på offentlig forsørgelse mod "
        "kvinder med dansk oprindelse",
        REFUGEES),
    not_evaluated(
        "Følgemål b: andelen af jobparate mænd med ikke-vestlig baggrund på offentlig forsørgelse mod mænd "
        "med dansk oprindelse",
        REFUGEES),
    evaluated(
        "Mål 7: 1210 nyledige jobparate er screenet for behov for handicapkompenserende ordninger ved "
        "udgangen af 2020",
        DISABLED,
        "Mål 7: 1.210 nyledige jobparate screenet i 2020"),
)


# Seed 003, Køge Kommune, Beskæftigelsesplan 2018: Tabel 1's budget 2018 and national columns,
# the DKK budget 2018 and the "Resultatmål" / "Konkrete mål for indsatsen i 2018".
def _budget(label: str, figure: str, name: str) -> PlanTarget:
    return evaluated(f"Tabel 1, BUDGET 2018: {label} {figure}", "Tabel 1, budget 2018", name)


def _dkk(label: str, figure: str, name: str) -> PlanTarget:
    return evaluated(f"Budget 2018, {label}: {figure} kr.", "Budget til ydelser og indsats i 2017 og 2018",
                     f"Budget 2018 kr.: {name}")


def _national(label: str, figure: str, name: str) -> PlanTarget:
    return evaluated(f"Køge skal for alle ydelsestyper som minimum være på niveau med hele landet: {label} "
                     f"{figure} (Tabel 1, HELE LANDET (1,045 PCT.))", FLEX, f"Niveau med hele landet: {name}")


FLEX = "1. Fleksibel, beskæftigelsesrettet indsats, resultatmål"
PLADS = "2. Plads til alle på arbejdsmarkedet, resultatmål"
UDD = "3. Uddannelse til alle, resultatmål"
VIRK = "4. Virksomhedernes behov ..., resultatmål"
KOEGE = (
    _budget("A-DAGPENGE", "697", "Budget 2018: a-dagpenge højst 697"),
    _budget("KONTANTHJÆLP", "844", "Budget 2018: kontanthjælp højst 844"),
    _budget("INTEGRATIONSYDELSE - OMFATTET AF IL", "225", "Budget 2018: integrationsydelse (IL) højst 225"),
    _budget("INTEGRATIONSYDELSE - ØVRIGE", "65", "Budget 2018: integrationsydelse (øvrige) højst 65"),
    _budget("UDDANNELSESHJÆLP", "425", "Budget 2018: uddannelseshjælp højst 425"),
    _budget("SYGEDAGPENGE (note 1, budgettet for 2018)", "648",
            "Budget 2018: sygedagpenge højst 648 (betalingsgrundlag)"),
    _budget("REVALIDERING", "85", "Budget 2018: revalidering højst 85"),
    _budget("LEDIGHEDSYDELSE", "165", "Budget 2018: ledighedsydelse højst 165"),
    _budget("JOBAFKLARINGSFORLØB", "181", "Budget 2018: jobafklaringsforløb højst 181"),
    _budget("RESSOURCEFORLØB", "218", "Budget 2018: ressourceforløb højst 218"),
    _budget("FLEKSJOB", "752", "Budget 2018: fleksjob højst 752"),
    _budget("the rows' sum (the column has no I ALT)", "4.305",
            "Budget 2018: i alt højst 4.305 (betalingsgrundlag)"),
    _dkk("05.57.71 SYGEDAGPENGE", "134.031.172", "sygedagpenge højst 134.031.172"),
    _dkk("05.57.73 KONTANT- OG UDDANNELSESHJÆLP", "172.082.442",
         "kontant- og uddannelseshjælp højst 172.082.442"),
    _dkk("05.57.78 DAGPENGE TIL FORSIKREDE LEDIGE", "94.908.608", "dagpenge højst 94.908.608"),
    _dkk("05.58.80 REVALIDERING", "19.023.746", "revalidering højst 19.023.746"),
    _dkk("05.58.81 TILSKUD MV. TIL PERSONER I FLEKSJOB", "137.954.194", "fleksjob højst 137.954.194"),
    _dkk("05.58.83 LEDIGHEDSYDELSE", "29.056.526", "ledighedsydelse højst 29.056.526"),
    _dkk("05.58.82 RESSOURCEFORLØB OG JOBAFKLARINGSFORLØB", "72.822.849",
         "ressourceforløb og jobafklaring højst 72.822.849"),
    _dkk("05.46.61 INTEGRATIONSYDELSE", "26.675.807", "integrationsydelse højst 26.675.807"),
    _dkk("FORSØRGELSESYDELSER I ALT less EGU (1.637.815)", "659.879.537",
         "forsørgelsesydelser i alt (uden EGU) højst 659.879.537"),
    _dkk("the benefits' net (modelled lines less REFUSIONER I ALT)", "439.775.055",
         "ydelser netto højst 439.775.055"),
    evaluated("Færre skal være på offentlig forsørgelse", FLEX, "Færre på offentlig forsørgelse end i 2017"),
    _national("A-DAGPENGE", "842", "a-dagpenge højst 842"),
    _national("KONTANTHJÆLP", "866", "kontanthjælp højst 866"),
    _national("KONTANTHJÆLP - JOBKLARE", "243", "kontanthjælp, jobklare højst 243"),
    _national("KONTANTHJÆLP - AKTIVITETSPARATE", "623", "kontanthjælp, aktivitetsparate højst 623"),
    _national("INTEGRATIONSYDELSE - OMFATTET AF IL", "187", "integrationsydelse (IL) højst 187"),
    _national("INTEGRATIONSYDELSE - ØVRIGE", "59", "integrationsydelse (øvrige) højst 59"),
    _national("UDDANNELSESHJÆLP", "369", "uddannelseshjælp højst 369"),
    _national("UDDANNELSESHJÆLP - UDDANNELSESPARATE", "135", "uddannelseshjælp, uddannelsesparate højst 135"),
    _national("UDDANNELSESHJÆLP - AKTIVITETSPARATE", "212", "uddannelseshjælp, aktivitetsparate højst 212"),
    _national("SYGEDAGPENGE", "677", "sygedagpenge højst 677"),
    _national("REVALIDERING", "54", "revalidering højst 54"),
    _national("LEDIGHEDSYDELSE", "155", "ledighedsydelse højst 155"),
    _national("JOBAFKLARINGSFORLØB", "194", "jobafklaringsforløb højst 194"),
    _national("RESSOURCEFORLØB", "211", "ressourceforløb højst 211"),
    _national("FLEKSJOB", "711", "fleksjob højst 711"),
    _national("I ALT", "4.325", "i alt højst 4.325"),
    evaluated("Færre skal være på integrationsydelse", PLADS, "Færre på integrationsydelse end i 2017"),
    not_evaluated("Andelen af integrationsydelsesmodtagere med ordinære løntimer skal øges", PLADS),
    evaluated("Færre skal være på kontanthjælp", PLADS, "Færre på kontanthjælp end i 2017"),
    not_evaluated("Andelen af kontanthjælpsmodtagere med ordinære løntimer skal øges", PLADS),
    evaluated("Færre på sygedagpenge, ledighedsydelse og ressourceforløbsydelse under jobafklaring", PLADS,
              "Færre på sygedagpenge end i 2017", "Færre på ledighedsydelse end i 2017",
              "Færre i jobafklaringsforløb end i 2017"),
    evaluated("Færre (unge) på uddannelseshjælp", UDD, "Færre på uddannelseshjælp end i 2017"),
    not_evaluated("Flere unge på uddannelseshjælp skal påbegynde en uddannelse", UDD),
    not_evaluated("Andelen af uddannelseshjælpsmodtagere med ordinære løntimer skal øges", UDD),
    not_evaluated("Samarbejdsgraden mellem virksomhederne og jobcentret skal som minimum fastholdes på "
                  "niveauet for 2017", VIRK),
    not_evaluated("Kontaktgraden er minimum 80 % for alle private virksomheder med minimum 2 "
                  "lønudbetalinger (2070 virksomheder)", VIRK),
    not_evaluated("Kontaktgraden er 100 pct. for alle private virksomheder med minimum 5 ansatte",
                  "Oversigt over fokusområder, pejlemærker, indsatsområder og mål for BP 2018"),
)

PLANS: dict[str, tuple[PlanTarget, ...]] = {
    TAARNBY_SEED: TAARNBY, DRAGOER_SEED: DRAGOER, LYNGBY_SEED: LYNGBY, KOEGE_SEED: KOEGE}
SCENARIO_PLAN: dict[str, str | None] = {
    "taarnby-2018": TAARNBY_SEED,
    "taarnby-2018-jobsoegning-x3": TAARNBY_SEED,   # a what-if of Tårnby's plan: the same targets
    "dragoer-2022-2023": DRAGOER_SEED,
    "lyngby-taarbaek-2020": LYNGBY_SEED,
    "koege-2018": KOEGE_SEED,
    "dragoer-backtest-2019": None,                 # a backtest against VIVE actuals: no plan targets
}
"""Each shipped scenario (file stem) and the seed whose plan it evaluates."""
WITH_PLAN = sorted(stem for stem, seed in SCENARIO_PLAN.items() if seed is not None)


def load(stem: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{stem}.yaml")


def where(stem: str, target: PlanTarget) -> str:
    seed = SCENARIO_PLAN[stem]
    return f"seeds/{seed}, {target.section}: {target.words!r}"


def test_every_shipped_scenario_is_in_the_inventory() -> None:
    shipped = {p.stem for p in SCENARIOS.glob("*.yaml")}
    assert shipped == set(SCENARIO_PLAN), (
        f"scenarios not in SCENARIO_PLAN: {sorted(shipped - set(SCENARIO_PLAN))}; "
        f"in it but not shipped: {sorted(set(SCENARIO_PLAN) - shipped)}")


@pytest.mark.parametrize("seed", sorted(PLANS))
def test_the_inventory_names_each_plan_target_once(seed: str) -> None:
    words = [t.words for t in PLANS[seed]]
    assert len(words) == len(set(words)), sorted({w for w in words if words.count(w) > 1})


@pytest.mark.parametrize("stem", WITH_PLAN)
def test_every_plan_target_is_evaluated_or_listed(stem: str) -> None:
    scenario = load(stem)
    names = {t.name for t in scenario.targets}
    listed = {n.target for n in scenario.not_evaluated}
    problems = []
    for target in PLANS[SCENARIO_PLAN[stem]]:  # type: ignore[index]
        if target.listed:
            if target.words not in listed:
                problems.append(f"{where(stem, target)} is neither a target nor a not_evaluated entry of "
                                f"scenarios/{stem}.yaml: evaluate it, or list it in not_evaluated with the "
                                "reason")
        else:
            for name in target.evaluated_by:
                if name not in names:
                    problems.append(f"{where(stem, target)} is to be evaluated by the target {name!r}, which "
                                    f"scenarios/{stem}.yaml does not have (renamed? then rename it here too)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stem", WITH_PLAN)
def test_the_scenario_has_no_target_the_inventory_does_not_know(stem: str) -> None:
    scenario = load(stem)
    plan = PLANS[SCENARIO_PLAN[stem]]  # type: ignore[index]
    known = {name for t in plan for name in t.evaluated_by}
    known_listed = {t.words for t in plan if t.listed}
    here = "tests/plans/test_target_inventory.py"
    problems = [f"scenarios/{stem}.yaml has the target {t.name!r}, which the inventory does not know: "
                f"add the plan target it evaluates to {here}"
                for t in scenario.targets if t.name not in known]
    problems += [f"scenarios/{stem}.yaml lists {n.target!r} in not_evaluated, which the inventory does not "
                 f"know (or knows as evaluated): add it to {here} as not evaluated"
                 for n in scenario.not_evaluated if n.target not in known_listed]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stem", WITH_PLAN)
def test_not_evaluated_entries_name_their_seed(stem: str) -> None:
    seed = SCENARIO_PLAN[stem]
    for entry in load(stem).not_evaluated:
        assert entry.plan.startswith(f"seeds/{seed}"), (
            f"scenarios/{stem}.yaml: not_evaluated {entry.target!r} gives plan {entry.plan!r}; "
            f"it should start with seeds/{seed} and name the section")


def test_the_backtest_carries_no_plan_targets() -> None:
    for stem in (s for s, seed in SCENARIO_PLAN.items() if seed is None):
        scenario = load(stem)
        assert not scenario.targets and not scenario.not_evaluated, stem


def test_the_counts_of_the_reviewed_inventory() -> None:
    """Evaluated / not evaluated per plan, as reviewed: a change here is a change of the review."""
    counts = {seed: (sum(not t.listed for t in plan), sum(t.listed for t in plan))
              for seed, plan in PLANS.items()}
    assert counts == {TAARNBY_SEED: (5, 15), DRAGOER_SEED: (7, 15), LYNGBY_SEED: (4, 5), KOEGE_SEED: (43, 7)}
