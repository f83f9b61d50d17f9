"""Write the two messy example exports: invented exit-survey answers as real HR systems export them.

    .venv/bin/python examples/make_messy_exports.py

- `exit_survey_export_cp1252.csv`: semicolon-delimited, Windows-1252 (é, £, ’, “ ”),
  CRLF line ends, answers with line breaks and semicolons quoted, UK dates, blanks.
- `exit_survey_export.xlsx`: the same rows on a "Responses" sheet under a merged
  title cell and two blank rows, and a second sheet ("Questions") with the wording.

Every answer is invented for this example (none is a labelled training text).
Rows are drawn with a fixed seed, so the files are the same on every run.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent
ROWS = 150
COLUMNS = ["response_id", "date_left", "directorate", "staff_group", "band", "leaving_reason", "could_do_better"]
QUESTIONS = {
    "leaving_reason": "In your own words, why did you decide to leave?",
    "could_do_better": "What could we, or your manager, have done better?",
}
DIRECTORATES = ["Medicine", "Surgery", "Women & Children", "Community", "Corporate", "Estates & Facilities", "Diagnostics"]
STAFF_GROUPS = [
    "Nursing & Midwifery", "Healthcare Assistants", "Allied Health Professionals", "Admin & Clerical",
    "Medical & Dental", "Estates & Facilities", "Scientific & Technical",
]
BANDS = ["Band 2", "Band 3", "Band 4", "Band 5", "Band 6", "Band 7", "Band 8a", "Medical"]
# What people type when they have nothing to add (and what exports make of it).
FILLERS = ["n/a", "N/A", "None", "-", "no comment", "Nothing", "see above", "na", "", "", "", "  "]

LEAVING = [
    "Better pay at the agency, simple as that.",
    "Moving to Leeds to be nearer my mum, who isn’t well.",
    "Retirement after 31 years in the NHS.",
    "I got a band 6 post at the hospice – I’d applied internally twice here and never heard back.",
    "The commute. Two buses each way and the car park permit is £50 a month.",
    "Burnt out. Three winters of corridor care and I have nothing left.",
    "My manager made it clear there was no route to progress unless you were one of her favourites.",
    "Going back to university to do my physio degree.",
    "Relocating abroad with my partner’s job.",
    "I wanted to work in the community and there were no vacancies in our patch.",
    "Childcare. Nursery shuts at six and my shifts finish at half seven.",
    "I was offered a permanent contract elsewhere; here I’d been on fixed-term renewals for two years.",
    "Honestly I felt invisible. Nobody noticed when I did something well and everyone noticed when something went wrong.",
    "Work–life balance. Being asked to pick up extra shifts every single week.",
    "The restructure. My role was changed without anyone talking to me about it first.",
    "I’m taking a career break to look after my dad.",
    "Pay. I can earn more stacking shelves at the supermarket with no responsibility.",
    "Moving into GP practice nursing – regular hours and no nights.",
    "I enjoyed the job but the travel between clinics took up half of every day.",
    "Bullying from a senior colleague that was reported and nothing was done.",
    "I’ve been promoted into a regional role with the ICB.",
    "End of my training rotation.",
    "Health reasons.",
    "Personal reasons, prefer not to say.",
    "Better opportunities for development at the teaching hospital.",
    "The team I loved was broken up when the wards merged and it never felt the same after.",
    "Starting my own business.",
    "I didn’t feel safe on nights. We were regularly two staff short and escalating it got us nowhere.",
    "My visa sponsorship moved to another trust that offered a clearer career pathway.",
    "I was told my flexible working request was 'not operationally possible' without any explanation.",
    "Relocation – husband is in the forces and we’ve been posted to Wiltshire.",
    "Wanted a change after 12 years on the same ward.",
    "The admin workload. I trained to be a midwife, not a data entry clerk.",
    "I’ve accepted a secondment to a research post at the university.",
    "My manager left and the new one had a completely different style; it just wasn’t for me.",
    "The trust kept promising the new rostering system would fix things and it never did.",
    "Emigrating to New Zealand.",
    "Stress. I was signed off twice this year.",
    "I wanted to specialise in tissue viability and there was no funding for the course here.",
    "Leaving healthcare altogether, going into teaching.",
    "I felt my concerns about unsafe staffing weren’t taken seriously, so I decided to leave before something went badly wrong on my shift.",
    "Retiring early – the pension changes made it worth going now.",
    "The job was fine, the hours were not. Long days four in a row with a 90-minute drive.",
    "Bank work suits me better at the moment.",
    "I moved to a band 7 role in the neighbouring trust's cardiology service.",
    "My fixed-term contract ended and it wasn't renewed.",
    "Culture. A lot of blame when things go wrong and not much curiosity about why.",
    "Other",
    "I loved my team and my manager, I’m only leaving because we’re moving house.",
    "Being moved between wards every shift to plug gaps, never knowing where I would be working.",
    "Lack of recognition – I acted up for 8 months with no extra pay.",
    "Family commitments.",
    "I want to work part-time and the only part-time posts were on nights.",
    "There was no clear direction for the service after the consultation – we were in limbo for a year.",
    "Found a job closer to home, saves me nearly two hours a day.",
    "I got a place on the graduate management scheme.",
    "The constant changes to the rota at short notice.",
    "I’ve been unhappy since the department moved to the new site; it feels like no one asked the staff.",
    "Caring for my children full time for now.",
    "A new challenge in the private sector.",
    "Retirement.",
    "Going travelling for a year.",
    "I had a back injury and couldn’t continue in a manual handling role.",
    "The pay gap between band 3 and band 4 doesn’t reflect the extra responsibility, so I’ve moved on.",
    "I was proud of the work we did on the frailty pathway but I need a rest.",
    "I’ve taken a role at the council’s public health team; I want to work on prevention.",
    "To be honest it was the way the department was run. Meetings about meetings and decisions never made.",
    "Couldn’t get annual leave approved for my sister’s wedding – that was the final straw.",
    "Better hours, more money, less stress at the new place.",
    "I was on long-term sick and when I came back nothing had been put in place to help me return.",
    "Career progression.\nThere is no band 7 post in our team and none coming.",
    "I want to try something new.\nAfter 20 years in theatres I need a change.",
    "Moving back to Ireland.",
    "Pension.",
    "It’s time. Thank you to the team – they were brilliant to the end.",
    "Too many changes in leadership. We had four matrons in two years.",
    "My line manager didn’t support my request for study leave, even though it was in my PDP.",
    "I have been offered an advanced practitioner role that was not available here.",
    "I felt unable to speak up. When I did, I was labelled as difficult.",
    "Stress of the job combined with the cost of living – I can’t afford the fuel on my salary.",
    "The night team was close-knit but days felt like a different organisation, with no support when things got busy.",
    "I got the job I always wanted at the children’s hospital. Nothing negative about here!",
    "Partner relocated for work.",
    "Poor communication from senior management about the future of the unit.",
    "Because the culture is toxic and nobody at the top seems to care.",
    "Retiring to spend time with my grandchildren. I’ve enjoyed my time here.",
    "Didn’t feel valued.",
    "I’m joining the ambulance service as a call handler.",
    "Workload is unmanageable; we are expected to do more with fewer people every year.",
    "My role was downgraded in the admin review and I wasn’t prepared to take a pay cut.",
]

BETTER = [
    "Listened. When we told you the ward was unsafe, listen.",
    "My manager was great – always explained why the rota had changed and asked how it would affect us. More managers like her.",
    "Pay us properly.",
    "Let staff have a say in how the new unit is set up instead of presenting it as done and dusted.",
    "Honestly? Nothing. I had a really good experience here.",
    "Stop moving people between wards without telling them why.",
    "Actually act on the staff survey. We fill it in every year and nothing changes.",
    "Offered flexible working. I would have stayed on three long days a week.",
    "Appraisals that mean something. Mine was a tick-box exercise done in ten minutes.",
    "Be honest with people when things go wrong, rather than pretending everything is fine.",
    "More support for newly qualified staff – my preceptorship fell apart after two months.",
    "Senior leaders visible on the wards, not just in emails.",
    "Managers who deal with poor behaviour instead of moving the person who complained.",
    "Better car parking for staff who start at 7am.",
    "Given me the chance to develop. I asked for the leadership course three times.",
    "The new electronic record is slow and crashes constantly – please fix IT before adding more forms.",
    "I think the trust could work much better with social care; half our delays are waiting for packages and nobody owns that problem.",
    "Career conversations. Nobody ever asked me where I wanted to be in five years.",
    "Make decisions and stick to them. We had three different plans for the discharge lounge in a year.",
    "Hot food for night staff.",
    "My supervisor trusted me to run the clinic and backed me when I tried a new booking system – I will miss that.",
    "Explain the reasons behind changes. We found out about the ward closure from the local paper.",
    "Give credit where it's due. The team pulled the service through the outbreak and nobody said thank you.",
    "Less micromanagement. I’m a band 7, I don’t need my annual leave form checked by three people.",
    "More consistency between managers – the rules seemed different depending on who was on.",
    "Involve patients and families when redesigning services, they have good ideas too.",
    "Recognise the admin teams. Without us clinics don’t run.",
    "Proper handover time built into the shift.",
    "Acknowledge mistakes. When the recruitment freeze caused the gaps, just say so.",
    "I would have liked someone to check in with me after the serious incident. It was weeks before anyone asked how I was.",
    "Have a clear vision for the community teams. Every year it’s a new model and we never finish implementing the last one.",
    "Sort out the rota software.",
    "Be braver about raising problems with the commissioners instead of absorbing everything.",
    "Nothing, my team were fantastic.",
    "Listen to the people doing the job before buying new equipment.",
    "Follow through. Actions from our team meetings were never picked up.",
    "The matron was supportive and encouraged me to try new ways of working – the problem was above her.",
    "Fairer access to overtime.",
    "Stop the blame culture. People hide errors because they are scared.",
    "Work with the local authority on housing for staff – I couldn’t afford to live near the hospital.",
    "More time for training, not squeezed into lunch breaks.",
    "Communication; it was poor at every level.",
    "Support for staff going through the menopause, there was none.",
    "Think about the whole patient journey, not just our bit. Patients bounce between services because no one is looking at the bigger picture.",
    "Be open to new ideas from junior staff. Every suggestion I made was met with ‘we’ve always done it this way’.",
    "Managers being accountable for what they promise.",
    "A proper exit interview would be a start.",
    "Sort the pay banding review out – it has been 'in progress' for three years.",
    "My manager should have stood up for the team when the director cut our posts; she just went along with it.",
    "Invest in the estate. The roof on our unit leaks whenever it rains.",
    "Nothing could have kept me, it was for family reasons.",
    "Take bullying complaints seriously and keep them confidential.",
    "Give teams the authority to make small decisions without waiting weeks for sign-off.",
    "I felt well supported by my line manager, who coached me rather than telling me what to do. The organisation as a whole less so.",
    "Be realistic about workloads.",
    "Clearer goals. I never knew what a good year looked like for our team.",
    "Build better links with the GP practices – we duplicate so much work.",
    "The ward manager kept every promise she made to us, which made it harder to leave.",
    "Offer career pathways for HCAs, like the nursing associate route, with real funding.",
    "Stop cancelling study days at the last minute.",
    "More honesty about the financial position; we heard rumours for months.",
    "Better induction for international nurses – I didn’t know who to ask about anything.",
    "I would have stayed if I could have worked school hours.",
    "Leaders who own the problems instead of passing them down to band 6s to fix.",
    "Fix the lockers.",
    "Deliver what was agreed. The business case for the extra post was approved and then never happened.",
    "It would have been nice to have been asked.",
    "Stop restructuring every eighteen months.",
    "Senior managers should shadow a shift on a bad day.",
    "The consultants should work with nursing staff as equals. Some do; many don’t.",
    "Support with the cost of living – even a discount scheme or free parking would help.",
    "Celebrate success. We hit every target in Q2 and nobody mentioned it.",
    "A named person to support me back after sick leave.\nI had four different contacts in six weeks.",
    "Ask us before changing shift patterns.\nWe found out on the Friday it started on the Monday.",
    "Managers trained in actually managing people, not just spreadsheets.",
    "More staff. Everything else follows from that.",
    "To be fair my manager did everything she could; she fought for the extra post and was honest with us when it didn’t come.",
    "Let people work from home on admin days.",
    "Speak up for the service at the system meetings – the community teams are always last in the queue.",
    "Meaningful wellbeing support, not a yoga video on the intranet.",
    "The director’s ‘open door’ was never open.",
    "Not sure.",
    "Better equipment; we were sharing one bladder scanner between three wards.",
    "Provide supervision time. I had clinical supervision twice in a year.",
    "Just be kinder to each other.",
    "More joined-up working between the hospital and the community teams – we rarely spoke to each other.",
    "Address the racism that staff of colour experience from some patients and colleagues.",
    "Trust staff to get on with the job.",
    "Clear up the confusion about who is responsible for discharge paperwork – it fell between three teams.",
]


def rows(seed: int = 2025) -> list[list[str]]:
    """ROWS respondents: each written answer used at most once per question, the rest fillers and blanks."""
    rng = random.Random(seed)
    leaving = LEAVING + [rng.choice(FILLERS) for _ in range(ROWS - len(LEAVING))]
    better = BETTER + [rng.choice(FILLERS) for _ in range(ROWS - len(BETTER))]
    rng.shuffle(leaving)
    rng.shuffle(better)
    start = dt.date(2025, 4, 1)
    days = sorted(rng.randrange(0, 180) for _ in range(ROWS))
    return [
        [
            f"EX-{2025000 + 17 * i + rng.randrange(17):07d}",
            (start + dt.timedelta(days=days[i])).strftime("%d/%m/%Y"),
            rng.choice(DIRECTORATES),
            rng.choice(STAFF_GROUPS),
            rng.choice(BANDS),
            leaving[i],
            better[i],
        ]
        for i in range(ROWS)
    ]


def write_csv(data: list[list[str]], path: Path) -> None:
    with open(path, "w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows(data)


def write_xlsx(data: list[list[str]], path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Responses"
    sheet["A1"] = "Exit survey export – April to September 2025 (invented answers)"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet.append([])  # rows 2 and 3 stay blank, as report exports leave them
    sheet.append([])
    sheet.append(COLUMNS)
    for row in data:
        day, month, year = map(int, row[1].split("/"))
        sheet.append(row[:1] + [dt.datetime(year, month, day)] + row[2:])  # dates as Excel dates
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    questions = workbook.create_sheet("Questions")
    questions.append(["column", "question"])
    for column, wording in QUESTIONS.items():
        questions.append([column, wording])
    workbook.save(path)


def main() -> None:
    data = rows()
    write_csv(data, HERE / "exit_survey_export_cp1252.csv")
    write_xlsx(data, HERE / "exit_survey_export.xlsx")


if __name__ == "__main__":
    main()
