"""What the demo's episodes say, per language: the phrases of a conversation, topic blocks
per category and the sponsors' ad reads. ``documents.py`` assembles them into transcripts.

A *block* is one stretch of an episode about one thing: a chapter title and two
statements with slots (``{place}``, ``{n}``, ``{year}``, ``{topic}``) that each episode
fills with its own values, so two episodes of a show that cover the same block still say
different things and a search for a place or a number finds one of them. The categories
are the world's (``world.CATEGORIES`` keys) and every language has blocks for each
category it has topics for (a test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BRANDS", "TALK", "Block", "Talk"]


@dataclass(frozen=True, slots=True)
class Block:
    title: str
    first: str
    second: str


@dataclass(frozen=True, slots=True)
class Talk:
    """One language's phrases. Slots: {show} {host} {guest} {topic}; ad reads add
    {brand} {pitch} {domain} {code} {n}."""

    places: tuple[str, ...]
    intro_chapter: str
    welcome: str
    cohost: str
    guest_intro: str
    guest_hello: str
    solo_intro: str
    lead_ins: tuple[str, ...]  # a host hands over to the guest ({guest})
    transitions: tuple[str, ...]  # a host moves on alone
    reactions: tuple[str, ...]
    musings: tuple[str, ...]  # {topic}
    guest_bye: str
    outro: str
    ad: str
    ad_break: str
    ad_back: str
    pitches: dict[str, str]  # brand kind -> what the brand sells
    blocks: dict[str, tuple[Block, ...]]  # world category key -> blocks


# Invented brands (name, kind); their domains are <name>.example.
BRANDS: tuple[tuple[str, str], ...] = (
    ("Brightmug", "coffee"),
    ("Nordhaus", "mattress"),
    ("Quillbox", "notebook"),
    ("Tidewell", "bottle"),
    ("Packrat Cloud", "backup"),
    ("Fernleaf", "mealkit"),
    ("Lumora", "glasses"),
)

_B = Block

TALK: dict[str, Talk] = {
    "en": Talk(
        places=(
            "Leeds",
            "Bristol",
            "Glasgow",
            "Toronto",
            "Denver",
            "Cork",
            "Manchester",
            "Austin",
            "Adelaide",
            "Portland",
        ),
        intro_chapter="Intro",
        welcome="Welcome to {show}. I'm {host}, and today we're talking about {topic}.",
        cohost="And I'm {host}. Good to be back.",
        guest_intro="My guest today is {guest}, who has spent years thinking about {topic}.",
        guest_hello="Thanks for having me, {host}. I could talk about {topic} all day.",
        solo_intro="It's just me today, so let's get straight into {topic}.",
        lead_ins=(
            "So, {guest}, where does this story start?",
            "{guest}, what surprised you most here?",
            "{guest}, walk us through it.",
        ),
        transitions=(
            "Let's move on to something listeners keep asking about.",
            "Next up, something I have wanted to cover for a while.",
            "Now for a different side of the story.",
        ),
        reactions=(
            "That's fascinating.",
            "I hadn't thought of it that way.",
            "Wow, that's more than I expected.",
            "Right, and listeners have written to us about exactly that.",
        ),
        musings=(
            "A lot of people think {topic} is only for experts, but it really isn't.",
            "What I love about {topic} is that there's always something new to learn.",
            "If you take one thing about {topic} from today, let it be this.",
        ),
        guest_bye="Thank you, {guest}, this was great.",
        outro="That's all for today. Thanks for listening to {show}, and see you next time.",
        ad="This episode is brought to you by {brand}. {pitch} Go to {domain}/podcast and use "
        "code {code} for {n} percent off your first order.",
        ad_break="We'll be right back after a word from our sponsor.",
        ad_back="And we're back.",
        pitches={
            "coffee": "{brand} roasts fresh coffee and delivers it to your door every two weeks.",
            "mattress": "{brand} mattresses come with a hundred night trial, so you can sleep "
            "on it before you decide.",
            "notebook": "{brand} makes notebooks with paper that fountain pens love.",
            "bottle": "A {brand} bottle keeps your water cold for a whole day.",
            "backup": "{brand} backs up every file on your computer automatically.",
            "mealkit": "{brand} sends you fresh ingredients and simple recipes every week.",
            "glasses": "{brand} makes prescription glasses online, with free returns.",
        },
        blocks={
            "tech": (
                _B(
                    "Maintainers",
                    "Most of the {topic} projects we rely on are kept alive by "
                    "{n} volunteers or fewer, often working evenings and weekends.",
                    "When a maintainer in {place} burned out, half the ecosystem noticed "
                    "within a week.",
                ),
                _B(
                    "Security",
                    "The scariest bugs are not clever exploits but forgotten default passwords.",
                    "A team in {place} found {n} servers nobody had patched since {year}.",
                ),
                _B(
                    "Tooling",
                    "Good developer tooling means a new hire can ship a change on the first day.",
                    "A company in {place} cut its build times from {n} minutes to under two by "
                    "caching dependencies.",
                ),
            ),
            "technews": (
                _B(
                    "The launch",
                    "The new phone launch was mostly about the camera, and the "
                    "battery barely changed.",
                    "Reviewers in {place} got {n} hours of screen time before it died.",
                ),
                _B(
                    "Regulation",
                    "Regulators are finally asking big tech to open their app "
                    "stores to competitors.",
                    "The hearing in {place} ran for {n} hours and ended without a decision.",
                ),
                _B(
                    "Funding",
                    "Startup funding dropped for the third quarter in a row, but AI "
                    "companies still raised record rounds.",
                    "One company from {place} raised {n} million dollars before it had a "
                    "single customer.",
                ),
            ),
            "politics": (
                _B(
                    "Turnout",
                    "Voter turnout in the last election surprised everyone, "
                    "especially among young people.",
                    "In {place}, {n} percent of first-time voters showed up, the highest "
                    "since {year}.",
                ),
                _B(
                    "The council",
                    "The city council spent the whole meeting arguing about bike "
                    "lanes and parking.",
                    "After {n} hours of debate in {place}, the plan passed by a single vote.",
                ),
                _B(
                    "The budget",
                    "Every budget is a moral document: it shows what a government really values.",
                    "The budget in {place} moved {n} million from road repairs to public housing.",
                ),
            ),
            "doc": (
                _B(
                    "Main street",
                    "The main street used to have a bakery, a cinema and three shoe shops.",
                    "Today {place} has {n} empty shop windows, and the old cinema is a "
                    "climbing gym.",
                ),
                _B(
                    "The inventor",
                    "She patented a folding umbrella decades before anyone "
                    "else, and nobody remembers her name.",
                    "Her workshop in {place} still stands, with {n} prototypes in the attic.",
                ),
                _B(
                    "Night shift",
                    "We followed a night bus driver through the city from midnight until dawn.",
                    "He has driven the same route through {place} for {n} years and knows "
                    "every regular by name.",
                ),
            ),
            "entre": (
                _B(
                    "Pricing",
                    "Most founders charge far too little because they are afraid of hearing no.",
                    "A shop in {place} doubled its prices and lost only {n} customers.",
                ),
                _B(
                    "The first hire",
                    "Your first hire should be someone who does the work you hate doing.",
                    "Our guest hired a bookkeeper in {place} after {n} months of doing taxes "
                    "at midnight.",
                ),
                _B(
                    "Bootstrapping",
                    "Bootstrapping means every decision is paid for by customers, not investors.",
                    "The company grew from a kitchen table in {place} to {n} employees without "
                    "outside money.",
                ),
            ),
            "natsci": (
                _B(
                    "Migration",
                    "Migrating birds navigate using the Earth's magnetic field "
                    "and the position of the stars.",
                    "Ringers near {place} counted {n} swallows on a single September morning.",
                ),
                _B(
                    "The deep sea",
                    "The deep ocean is darker and colder than most people "
                    "imagine, yet full of life.",
                    "A research ship off {place} filmed {n} species that had never been described.",
                ),
                _B(
                    "Fungal networks",
                    "Underground fungal networks connect the roots of trees "
                    "and move sugar between them.",
                    "In a forest outside {place}, one fungus covered an area of {n} football "
                    "pitches.",
                ),
            ),
            "mental": (
                _B(
                    "Sleep",
                    "Keeping the same wake-up time every day matters more than going to bed early.",
                    "A sleep clinic in {place} found patients gained {n} minutes of sleep "
                    "within a month.",
                ),
                _B(
                    "Burnout",
                    "Burnout is not a personal weakness but a mismatch between "
                    "demands and resources.",
                    "Nurses in {place} reported {n} percent less exhaustion once their "
                    "schedules became predictable.",
                ),
                _B(
                    "Breathing",
                    "Slow breathing, about six breaths a minute, calms the "
                    "nervous system surprisingly fast.",
                    "Our guest teaches this exercise to {n} students a year in {place}.",
                ),
            ),
            "comedy": (
                _B(
                    "The worst film",
                    "We watched the worst science fiction film ever made, and "
                    "the robot costume was a cardboard box.",
                    "It premiered in {place} and {n} people walked out before the end.",
                ),
                _B(
                    "The lift",
                    "My worst date ended with both of us stuck in a lift for an hour.",
                    "The fire brigade in {place} said it was their {n}th lift rescue that week.",
                ),
                _B(
                    "The printer",
                    "The office printer has become the most hated colleague in the building.",
                    "It jammed {n} times on Monday alone, and someone in {place} named it Kevin.",
                ),
            ),
            "soccer": (
                _B(
                    "Pressing",
                    "High pressing wins the ball back near the opponent's goal, but "
                    "it exhausts the players.",
                    "The team from {place} covered {n} kilometres in a single match.",
                ),
                _B(
                    "Transfers",
                    "The transfer window turns every rumour into a headline.",
                    "A striker from {place} moved for {n} million after just one good season.",
                ),
                _B(
                    "The women's game",
                    "Attendance at women's matches has exploded in the last few seasons.",
                    "The derby in {place} sold {n} thousand tickets in under an hour.",
                ),
            ),
            "history": (
                _B(
                    "Roman roads",
                    "The Romans built roads so straight that some modern "
                    "highways still follow them.",
                    "Near {place}, archaeologists uncovered {n} metres of the original paving.",
                ),
                _B(
                    "Spy gadgets",
                    "During the Cold War, spies hid microfilm in hollow coins and shaving brushes.",
                    "A museum in {place} shows {n} of these gadgets.",
                ),
                _B(
                    "Monasteries",
                    "Medieval monasteries kept books alive by copying them by "
                    "hand, letter by letter.",
                    "The library in {place} holds {n} manuscripts from that period.",
                ),
            ),
            "books": (
                _B(
                    "Worldbuilding",
                    "Great science fiction starts with one changed rule and "
                    "follows it all the way.",
                    "The author wrote {n} drafts in a cabin near {place} before the world felt "
                    "real.",
                ),
                _B(
                    "Reading aloud",
                    "A poem should be read aloud at least once; the rhythm "
                    "carries half the meaning.",
                    "The reading in {place} drew {n} people, more than the football match next "
                    "door.",
                ),
                _B(
                    "Fair clues",
                    "The best crime novels play fair: every clue is on the page before the reveal.",
                    "The series is set in {place} and has sold {n} million copies.",
                ),
            ),
            "food": (
                _B(
                    "The starter",
                    "A sourdough starter is just flour, water and patience, fed every day.",
                    "The bakery in {place} keeps a starter that is {n} years old.",
                ),
                _B(
                    "Street stalls",
                    "Street food is where a city cooks for itself, fast and cheap.",
                    "One stall in {place} sells {n} dumplings before lunchtime.",
                ),
                _B(
                    "Weeknights",
                    "Weeknight cooking works when you cook once and eat three times.",
                    "Our guest from {place} plans meals for {n} people every Sunday.",
                ),
            ),
            "langlearn": (
                _B(
                    "The subjunctive",
                    "The subjunctive scares learners, but it simply marks "
                    "wishes, doubts and emotions.",
                    "Students in {place} mastered it after {n} weeks of short daily exercises.",
                ),
                _B(
                    "Idioms",
                    "Idioms like break a leg make no sense word by word; you learn "
                    "them as whole phrases.",
                    "Our guest collected {n} idioms from teenagers in {place}.",
                ),
                _B(
                    "Recording yourself",
                    "Pronunciation improves fastest when you record yourself and compare.",
                    "A class in {place} practised {n} minimal pairs until the vowels sounded "
                    "right.",
                ),
            ),
        },
    ),
    "es": Talk(
        places=(
            "Sevilla",
            "Valencia",
            "Bilbao",
            "Zaragoza",
            "Málaga",
            "Granada",
            "Córdoba",
            "Salamanca",
            "Oviedo",
            "Murcia",
        ),
        intro_chapter="Introducción",
        welcome="Bienvenidos a {show}. Soy {host} y hoy hablamos de {topic}.",
        cohost="Y yo soy {host}. Qué alegría volver.",
        guest_intro="Hoy nos acompaña {guest}, que lleva años dedicada a {topic}.",
        guest_hello="Gracias por invitarme, {host}. Podría hablar de {topic} todo el día.",
        solo_intro="Hoy estoy solo, así que vamos directos a {topic}.",
        lead_ins=(
            "Entonces, {guest}, ¿dónde empieza esta historia?",
            "{guest}, ¿qué fue lo que más te sorprendió?",
            "{guest}, cuéntanos cómo fue.",
        ),
        transitions=(
            "Pasemos a algo por lo que los oyentes preguntan mucho.",
            "Ahora, algo que quería contar desde hace tiempo.",
            "Veamos ahora otra cara de la historia.",
        ),
        reactions=(
            "Qué interesante.",
            "No lo había pensado así.",
            "Vaya, es más de lo que esperaba.",
            "Exacto, y los oyentes nos han escrito justo sobre eso.",
        ),
        musings=(
            "Mucha gente cree que {topic} es solo para expertos, pero no es así.",
            "Lo que me encanta de {topic} es que siempre hay algo nuevo que aprender.",
            "Si os quedáis con una sola idea sobre {topic}, que sea esta.",
        ),
        guest_bye="Muchas gracias, {guest}, ha sido un placer.",
        outro="Esto es todo por hoy. Gracias por escuchar {show}, y hasta la próxima.",
        ad="Este episodio está patrocinado por {brand}. {pitch} Entra en {domain}/podcast y "
        "usa el código {code} para obtener un {n} por ciento de descuento en tu primer "
        "pedido.",
        ad_break="Volvemos enseguida, después de un mensaje de nuestro patrocinador.",
        ad_back="Y ya estamos de vuelta.",
        pitches={
            "coffee": "{brand} tuesta café fresco y te lo lleva a casa cada dos semanas.",
            "mattress": "Los colchones {brand} tienen cien noches de prueba, para que duermas "
            "en ellos antes de decidir.",
            "notebook": "{brand} fabrica cuadernos con un papel que adoran las plumas "
            "estilográficas.",
            "bottle": "Una botella {brand} mantiene el agua fría durante todo el día.",
            "backup": "{brand} hace copias de seguridad de todos tus archivos automáticamente.",
            "mealkit": "{brand} te envía ingredientes frescos y recetas sencillas cada semana.",
            "glasses": "{brand} vende gafas graduadas por internet, con devolución gratuita.",
        },
        blocks={
            "tech": (
                _B(
                    "La comunidad",
                    "La mayoría de los proyectos de {topic} dependen de {n} voluntarios o menos.",
                    "Cuando una desarrolladora de {place} dejó su proyecto, media comunidad "
                    "tardó semanas en reaccionar.",
                ),
                _B(
                    "Seguridad",
                    "Los fallos más peligrosos no son los ataques ingeniosos, "
                    "sino las contraseñas por defecto olvidadas.",
                    "Un equipo de {place} encontró {n} servidores sin actualizar desde {year}.",
                ),
                _B(
                    "Los datos",
                    "Un modelo solo es tan bueno como los datos con los que se entrena.",
                    "En un hospital de {place} el algoritmo revisó {n} radiografías en una "
                    "sola noche.",
                ),
            ),
            "entre": (
                _B(
                    "Los precios",
                    "Casi todos los emprendedores cobran demasiado poco por miedo a un no.",
                    "Una tienda de {place} subió sus precios y solo perdió {n} clientes.",
                ),
                _B(
                    "El ahorro",
                    "El primer paso de las finanzas personales es saber adónde va cada euro.",
                    "Una familia de {place} ahorró {n} euros en un año anotando todos sus gastos.",
                ),
                _B(
                    "El primer empleado",
                    "El primer empleado debe hacer el trabajo que el fundador odia hacer.",
                    "Nuestra invitada contrató a una gestora en {place} después de {n} meses "
                    "haciendo la contabilidad de madrugada.",
                ),
            ),
            "soccer": (
                _B(
                    "La presión",
                    "La presión alta recupera el balón cerca de la portería "
                    "rival, pero agota a los jugadores.",
                    "El equipo de {place} recorrió {n} kilómetros en un solo partido.",
                ),
                _B(
                    "Los fichajes",
                    "El mercado de fichajes convierte cada rumor en un titular.",
                    "Un delantero de {place} se fue por {n} millones después de una sola buena "
                    "temporada.",
                ),
                _B(
                    "Las gradas",
                    "La asistencia a los partidos de fútbol femenino se ha "
                    "disparado en las últimas temporadas.",
                    "El derbi de {place} vendió {n} mil entradas en menos de una hora.",
                ),
            ),
            "history": (
                _B(
                    "El exilio",
                    "Al final de la guerra, miles de familias cruzaron los "
                    "Pirineos a pie en pleno invierno.",
                    "En {place} se conservan {n} cartas de aquellos exiliados.",
                ),
                _B(
                    "Las calzadas",
                    "Los romanos construyeron calzadas tan rectas que algunas "
                    "carreteras actuales siguen su trazado.",
                    "Cerca de {place} los arqueólogos descubrieron {n} metros del empedrado "
                    "original.",
                ),
                _B(
                    "Los archivos",
                    "Los archivos municipales guardan historias que nunca "
                    "llegaron a los libros de texto.",
                    "La historiadora pasó {n} meses en el archivo de {place} leyendo actas de "
                    "plenos.",
                ),
            ),
            "books": (
                _B(
                    "Las pistas",
                    "La buena novela negra juega limpio: todas las pistas están "
                    "en la página antes del final.",
                    "La serie transcurre en {place} y ha vendido {n} millones de ejemplares.",
                ),
                _B(
                    "En voz alta",
                    "Un poema hay que leerlo en voz alta al menos una vez; el "
                    "ritmo lleva la mitad del sentido.",
                    "El recital de {place} reunió a {n} personas, más que el partido de al lado.",
                ),
                _B(
                    "Los borradores",
                    "Nuestra invitada escribe a mano el primer borrador de cada libro.",
                    "Reescribió {n} veces el primer capítulo en una casa cerca de {place}.",
                ),
            ),
            "mental": (
                _B(
                    "El sueño",
                    "Levantarse siempre a la misma hora importa más que acostarse temprano.",
                    "Una clínica del sueño de {place} comprobó que los pacientes dormían {n} "
                    "minutos más al cabo de un mes.",
                ),
                _B(
                    "La respiración",
                    "Respirar despacio, unas seis veces por minuto, calma el "
                    "sistema nervioso sorprendentemente rápido.",
                    "Nuestro invitado enseña este ejercicio a {n} alumnos al año en {place}.",
                ),
                _B(
                    "El miedo",
                    "La ansiedad no desaparece evitando lo que nos da miedo, sino "
                    "acercándonos poco a poco.",
                    "Un grupo de apoyo en {place} reúne cada semana a {n} personas.",
                ),
            ),
            "langlearn": (
                _B(
                    "Phrasal verbs",
                    "Los phrasal verbs asustan, pero se aprenden mejor en "
                    "frases completas que en listas.",
                    "Los alumnos de {place} aprendieron {n} expresiones nuevas en un mes.",
                ),
                _B(
                    "La pronunciación",
                    "La pronunciación mejora más rápido cuando te grabas y "
                    "te comparas con un nativo.",
                    "Una clase de {place} practicó {n} pares de palabras hasta que las vocales "
                    "sonaron bien.",
                ),
                _B(
                    "Las series",
                    "Ver series en versión original con subtítulos en inglés es "
                    "el mejor ejercicio de comprensión.",
                    "Nuestra invitada vio {n} episodios seguidos en {place} para preparar su "
                    "examen.",
                ),
            ),
        },
    ),
    "de": Talk(
        places=(
            "Hamburg",
            "Leipzig",
            "Freiburg",
            "Bremen",
            "Kassel",
            "Rostock",
            "Münster",
            "Regensburg",
            "Dresden",
            "Kiel",
        ),
        intro_chapter="Einleitung",
        welcome="Willkommen bei {show}. Ich bin {host}, und heute geht es um {topic}.",
        cohost="Und ich bin {host}. Schön, wieder dabei zu sein.",
        guest_intro="Mein Gast heute ist {guest}, die sich seit Jahren mit {topic} beschäftigt.",
        guest_hello="Danke für die Einladung, {host}. Über {topic} könnte ich stundenlang reden.",
        solo_intro="Heute bin ich allein, also geht es direkt los mit {topic}.",
        lead_ins=(
            "Also, {guest}, wo beginnt diese Geschichte?",
            "{guest}, was hat dich am meisten überrascht?",
            "{guest}, erzähl uns, wie das war.",
        ),
        transitions=(
            "Kommen wir zu etwas, wonach Hörer immer wieder fragen.",
            "Als Nächstes etwas, worüber ich schon lange sprechen wollte.",
            "Jetzt eine andere Seite der Geschichte.",
        ),
        reactions=(
            "Das ist spannend.",
            "So habe ich das noch nie gesehen.",
            "Wow, das ist mehr, als ich erwartet hätte.",
            "Genau, und Hörer haben uns genau dazu geschrieben.",
        ),
        musings=(
            "Viele glauben, {topic} sei nur etwas für Fachleute, aber das stimmt nicht.",
            "Was ich an {topic} mag: Es gibt immer etwas Neues zu lernen.",
            "Wenn ihr heute eine Sache über {topic} mitnehmt, dann diese.",
        ),
        guest_bye="Vielen Dank, {guest}, das war großartig.",
        outro="Das war's für heute. Danke fürs Zuhören bei {show}, bis zum nächsten Mal.",
        ad="Diese Folge wird präsentiert von {brand}. {pitch} Geht auf {domain}/podcast und "
        "nutzt den Code {code} für {n} Prozent Rabatt auf eure erste Bestellung.",
        ad_break="Wir sind gleich zurück, nach einer kurzen Werbepause.",
        ad_back="Und wir sind zurück.",
        pitches={
            "coffee": "{brand} röstet frischen Kaffee und liefert ihn alle zwei Wochen nach Hause.",
            "mattress": "Matratzen von {brand} könnt ihr hundert Nächte lang testen, bevor "
            "ihr euch entscheidet.",
            "notebook": "{brand} macht Notizbücher mit Papier, das Füller lieben.",
            "bottle": "Eine Flasche von {brand} hält euer Wasser den ganzen Tag kalt.",
            "backup": "{brand} sichert jede Datei auf eurem Computer automatisch.",
            "mealkit": "{brand} schickt euch jede Woche frische Zutaten und einfache Rezepte.",
            "glasses": "Bei {brand} gibt es Brillen mit Sehstärke online, mit kostenloser "
            "Rücksendung.",
        },
        blocks={
            "tech": (
                _B(
                    "Ehrenamt",
                    "Die meisten Projekte rund um {topic} hängen an {n} Freiwilligen oder weniger.",
                    "Als ein Entwickler aus {place} aufhörte, merkte es die halbe Branche "
                    "innerhalb einer Woche.",
                ),
                _B(
                    "Datensparsamkeit",
                    "Datenschutz beginnt damit, Daten gar nicht erst zu "
                    "sammeln, die man nicht braucht.",
                    "Eine Behörde in {place} löschte {n} alte Kundendatensätze an einem "
                    "einzigen Tag.",
                ),
                _B(
                    "Sprachmodelle",
                    "Ein Sprachmodell ist nur so gut wie die Texte, mit denen es trainiert wurde.",
                    "Ein Team aus {place} prüfte {n} Antworten des Modells von Hand.",
                ),
            ),
            "natsci": (
                _B(
                    "Die Sternwarte",
                    "Auf dem Land ist der Nachthimmel so dunkel, dass man die "
                    "Milchstraße mit bloßem Auge sieht.",
                    "Die Sternwarte bei {place} zählte in einer Nacht {n} Sternschnuppen.",
                ),
                _B(
                    "Zellen",
                    "Jede Zelle unseres Körpers erneuert ständig ihre Bausteine, "
                    "ohne dass wir es merken.",
                    "Ein Labor in {place} hat {n} Zellteilungen unter dem Mikroskop gefilmt.",
                ),
                _B(
                    "Gletscher",
                    "Die Alpengletscher verlieren jedes Jahr mehr Eis, als im Winter nachkommt.",
                    "Forschende aus {place} haben {n} Messpunkte auf dem Eis installiert.",
                ),
            ),
            "history": (
                _B(
                    "Inflation",
                    "Im Jahr 1923 kostete ein Brot am Morgen weniger als am Abend.",
                    "Ein Museum in {place} zeigt {n} Geldscheine aus dieser Zeit.",
                ),
                _B(
                    "Klöster",
                    "Mittelalterliche Klöster retteten Bücher, indem Mönche sie "
                    "Buchstabe für Buchstabe abschrieben.",
                    "Die Bibliothek in {place} bewahrt {n} Handschriften aus dieser Zeit.",
                ),
                _B(
                    "Stadtrecht",
                    "Mit dem Stadtrecht durften Städte eigene Märkte abhalten und Mauern bauen.",
                    "{place} erhielt sein Stadtrecht vor fast {n} Jahren.",
                ),
            ),
            "entre": (
                _B(
                    "Die ersten Kunden",
                    "Die meisten Gründerinnen unterschätzen, wie lange die "
                    "ersten Kunden auf sich warten lassen.",
                    "Unser Gast hat in {place} {n} Monate ohne Umsatz durchgehalten.",
                ),
                _B(
                    "Familienbetrieb",
                    "Im Mittelstand wird die Firma oft über Generationen in "
                    "der Familie weitergegeben.",
                    "Der Betrieb in {place} beschäftigt heute {n} Menschen und exportiert in "
                    "alle Welt.",
                ),
                _B(
                    "Preise",
                    "Viele Gründer verlangen viel zu wenig, weil sie Angst vor einem Nein haben.",
                    "Ein Laden in {place} hat seine Preise verdoppelt und nur {n} Kunden verloren.",
                ),
            ),
            "soccer": (
                _B(
                    "Pressing",
                    "Hohes Pressing gewinnt den Ball nah am gegnerischen Tor, "
                    "kostet aber enorm viel Kraft.",
                    "Die Mannschaft aus {place} lief in einem einzigen Spiel {n} Kilometer.",
                ),
                _B(
                    "Nachwuchs",
                    "Die besten Vereine investieren mehr in ihre Jugendakademie "
                    "als in teure Transfers.",
                    "Aus der Akademie in {place} kamen {n} Profis in nur fünf Jahren.",
                ),
                _B(
                    "Die Kurve",
                    "Die Stehplätze sind das Herz der Fankultur.",
                    "In {place} standen am Samstag {n} tausend Fans auf der Südtribüne.",
                ),
            ),
            "doc": (
                _B(
                    "Der Marktplatz",
                    "Früher gab es am Marktplatz eine Bäckerei, ein Kino und drei Schuhläden.",
                    "Heute stehen in {place} {n} Schaufenster leer, und das alte Kino ist eine "
                    "Kletterhalle.",
                ),
                _B(
                    "Der Dorfladen",
                    "Als der letzte Laden schloss, gründeten die Bewohner einfach einen eigenen.",
                    "Der Dorfladen bei {place} gehört heute {n} Genossen.",
                ),
                _B(
                    "Der Bahnhof",
                    "Der kleine Bahnhof war jahrzehntelang der Treffpunkt der ganzen Stadt.",
                    "Nur noch {n} Züge halten täglich in {place}.",
                ),
            ),
        },
    ),
    "fr": Talk(
        places=(
            "Lyon",
            "Nantes",
            "Lille",
            "Bordeaux",
            "Toulouse",
            "Rennes",
            "Grenoble",
            "Marseille",
            "Montpellier",
            "Strasbourg",
        ),
        intro_chapter="Introduction",
        welcome="Bienvenue dans {show}. Je suis {host}, et aujourd'hui on parle de {topic}.",
        cohost="Et moi, c'est {host}. Content d'être de retour.",
        guest_intro="Mon invitée aujourd'hui est {guest}, qui s'intéresse à {topic} depuis "
        "des années.",
        guest_hello="Merci de l'invitation, {host}. Je pourrais parler de {topic} pendant des "
        "heures.",
        solo_intro="Je suis seul aujourd'hui, alors entrons directement dans {topic}.",
        lead_ins=(
            "Alors, {guest}, où commence cette histoire ?",
            "{guest}, qu'est-ce qui t'a le plus surpris ?",
            "{guest}, raconte-nous comment ça s'est passé.",
        ),
        transitions=(
            "Passons à une question que les auditeurs nous posent souvent.",
            "Ensuite, un sujet dont je voulais parler depuis longtemps.",
            "Voyons maintenant une autre facette de l'histoire.",
        ),
        reactions=(
            "C'est passionnant.",
            "Je n'avais jamais vu les choses comme ça.",
            "Waouh, c'est plus que ce que j'imaginais.",
            "Exactement, et des auditeurs nous ont écrit à ce sujet.",
        ),
        musings=(
            "Beaucoup pensent que {topic} est réservé aux experts, mais ce n'est pas vrai.",
            "Ce que j'aime avec {topic}, c'est qu'on apprend toujours quelque chose.",
            "Si vous ne retenez qu'une chose sur {topic} aujourd'hui, retenez celle-ci.",
        ),
        guest_bye="Merci beaucoup, {guest}, c'était formidable.",
        outro="C'est tout pour aujourd'hui. Merci d'avoir écouté {show}, et à la prochaine.",
        ad="Cet épisode vous est offert par {brand}. {pitch} Rendez-vous sur {domain}/podcast "
        "et utilisez le code {code} pour {n} pour cent de réduction sur votre première "
        "commande.",
        ad_break="On revient tout de suite après un message de notre partenaire.",
        ad_back="Et nous voilà de retour.",
        pitches={
            "coffee": "{brand} torréfie du café frais et le livre chez vous toutes les deux "
            "semaines.",
            "mattress": "Les matelas {brand} s'essaient pendant cent nuits avant de vous décider.",
            "notebook": "{brand} fabrique des carnets dont le papier plaît aux stylos plume.",
            "bottle": "Une gourde {brand} garde votre eau fraîche toute la journée.",
            "backup": "{brand} sauvegarde automatiquement tous les fichiers de votre ordinateur.",
            "mealkit": "{brand} vous envoie chaque semaine des ingrédients frais et des "
            "recettes simples.",
            "glasses": "{brand} vend des lunettes de vue en ligne, avec retour gratuit.",
        },
        blocks={
            "books": (
                _B(
                    "Le premier roman",
                    "Notre invitée a écrit son premier roman dans les "
                    "trains de banlieue, très tôt le matin.",
                    "Le manuscrit a été refusé {n} fois avant qu'un éditeur de {place} l'accepte.",
                ),
                _B(
                    "La planche",
                    "Une bonne planche de bande dessinée se lit d'abord avec les "
                    "yeux, puis avec le cœur.",
                    "Le festival de {place} a accueilli {n} auteurs cette année.",
                ),
                _B(
                    "À voix haute",
                    "Un poème doit être lu à voix haute au moins une fois ; le "
                    "rythme porte la moitié du sens.",
                    "La lecture à {place} a réuni {n} personnes, plus que le match d'à côté.",
                ),
            ),
            "history": (
                _B(
                    "La Bastille",
                    "Le 14 juillet, la foule cherchait surtout de la poudre pour ses fusils.",
                    "Un musée de {place} conserve {n} pierres de la forteresse.",
                ),
                _B(
                    "Les cathédrales",
                    "Construire une cathédrale prenait souvent plus d'un "
                    "siècle et plusieurs générations d'ouvriers.",
                    "Le chantier de {place} a employé jusqu'à {n} tailleurs de pierre.",
                ),
                _B(
                    "Les chevaliers",
                    "Les chevaliers passaient plus de temps à gérer leurs terres qu'à combattre.",
                    "Les archives de {place} contiennent {n} actes de vente signés par des "
                    "seigneurs.",
                ),
            ),
            "comedy": (
                _B(
                    "L'imprimante",
                    "L'imprimante du bureau est devenue la collègue la plus détestée de l'étage.",
                    "Elle s'est bloquée {n} fois lundi, et quelqu'un à {place} l'a baptisée "
                    "Gérard.",
                ),
                _B(
                    "Les réunions",
                    "Cette réunion aurait pu être un courriel, et tout le monde le savait.",
                    "Le record à {place} : {n} minutes pour choisir la couleur d'un post-it.",
                ),
                _B(
                    "Le pot de départ",
                    "Au pot de départ, personne ne connaissait vraiment la personne qui partait.",
                    "On a quand même mangé {n} parts de gâteau à {place}.",
                ),
            ),
            "doc": (
                _B(
                    "La boulangerie",
                    "Dans le quartier, la boulangerie ouvre avant le jour et ferme la dernière.",
                    "Le boulanger de {place} fait {n} baguettes chaque matin.",
                ),
                _B(
                    "Le tramway",
                    "Le retour du tramway a changé la vie de tout un quartier.",
                    "À {place}, {n} mille passagers le prennent chaque jour.",
                ),
                _B(
                    "La concierge",
                    "La concierge connaît les secrets de tout l'immeuble mais "
                    "n'en dit jamais rien.",
                    "Elle travaille à {place} depuis {n} ans.",
                ),
            ),
            "natsci": (
                _B(
                    "Les récifs",
                    "Les récifs coralliens blanchissent quand l'eau reste trop "
                    "chaude trop longtemps.",
                    "Des plongeurs de {place} ont compté {n} espèces de poissons sur un seul "
                    "récif.",
                ),
                _B(
                    "Le ciel noir",
                    "Loin des villes, le ciel est assez noir pour voir la Voie lactée à l'œil nu.",
                    "L'observatoire près de {place} a compté {n} étoiles filantes en une nuit.",
                ),
                _B(
                    "Les marées",
                    "Les marées viennent de l'attraction de la Lune, et un peu de celle du Soleil.",
                    "À {place}, la mer monte parfois de {n} mètres en six heures.",
                ),
            ),
            "tech": (
                _B(
                    "Les données",
                    "Un modèle d'intelligence artificielle ne vaut que par les "
                    "données qui l'ont entraîné.",
                    "Une équipe de {place} a vérifié à la main {n} réponses du modèle.",
                ),
                _B(
                    "Les bénévoles",
                    "La plupart des projets de logiciel libre reposent sur {n} bénévoles ou moins.",
                    "Quand un développeur de {place} a arrêté, la moitié de la communauté l'a "
                    "remarqué en une semaine.",
                ),
                _B(
                    "La sécurité",
                    "Les failles les plus graves ne sont pas des attaques "
                    "brillantes mais des mots de passe oubliés.",
                    "Une équipe de {place} a trouvé {n} serveurs jamais mis à jour depuis {year}.",
                ),
            ),
            "food": (
                _B(
                    "Le marché",
                    "Cuisiner de saison commence au marché, pas dans le livre de recettes.",
                    "Notre invité achète ses légumes chez {n} producteurs autour de {place}.",
                ),
                _B(
                    "La soupe",
                    "En automne, une soupe de potiron se prépare avec trois "
                    "ingrédients et beaucoup de patience.",
                    "La cantine de {place} en sert {n} bols par jour.",
                ),
                _B(
                    "Les conserves",
                    "Les conserves maison gardent le goût de l'été pour l'hiver.",
                    "Sa grand-mère à {place} remplissait {n} bocaux chaque été.",
                ),
            ),
        },
    ),
    "pt": Talk(
        places=(
            "Recife",
            "Curitiba",
            "Salvador",
            "Belém",
            "Manaus",
            "Fortaleza",
            "Campinas",
            "Goiânia",
            "Natal",
            "Florianópolis",
        ),
        intro_chapter="Introdução",
        welcome="Bem-vindos ao {show}. Eu sou {host} e hoje vamos falar de {topic}.",
        cohost="E eu sou {host}. Que bom estar de volta.",
        guest_intro="Nossa convidada de hoje é {guest}, que estuda {topic} há anos.",
        guest_hello="Obrigada pelo convite, {host}. Eu poderia falar de {topic} o dia todo.",
        solo_intro="Hoje estou sozinho, então vamos direto ao assunto: {topic}.",
        lead_ins=(
            "Então, {guest}, onde começa essa história?",
            "{guest}, o que mais te surpreendeu?",
            "{guest}, conta pra gente como foi.",
        ),
        transitions=(
            "Vamos para uma pergunta que os ouvintes sempre fazem.",
            "Agora, um assunto que eu queria trazer faz tempo.",
            "Vamos ver agora outro lado da história.",
        ),
        reactions=(
            "Que interessante.",
            "Eu nunca tinha pensado nisso dessa forma.",
            "Nossa, é mais do que eu imaginava.",
            "Exato, e os ouvintes escreveram justamente sobre isso.",
        ),
        musings=(
            "Muita gente acha que {topic} é só para especialistas, mas não é.",
            "O que eu adoro em {topic} é que sempre tem algo novo para aprender.",
            "Se vocês guardarem uma coisa sobre {topic} hoje, que seja esta.",
        ),
        guest_bye="Muito obrigado, {guest}, foi ótimo.",
        outro="Por hoje é só. Obrigado por ouvir o {show}, e até a próxima.",
        ad="Este episódio é patrocinado por {brand}. {pitch} Acesse {domain}/podcast e use o "
        "cupom {code} para ganhar {n} por cento de desconto na sua primeira compra.",
        ad_break="A gente volta já, depois de uma mensagem do nosso patrocinador.",
        ad_back="E estamos de volta.",
        pitches={
            "coffee": "{brand} torra café fresco e entrega na sua casa a cada duas semanas.",
            "mattress": "Os colchões {brand} têm cem noites de teste para você decidir com calma.",
            "notebook": "{brand} faz cadernos com um papel que as canetas-tinteiro adoram.",
            "bottle": "Uma garrafa {brand} mantém sua água gelada o dia inteiro.",
            "backup": "{brand} faz backup de todos os arquivos do seu computador automaticamente.",
            "mealkit": "{brand} manda ingredientes frescos e receitas simples toda semana.",
            "glasses": "{brand} vende óculos de grau pela internet, com devolução grátis.",
        },
        blocks={
            "soccer": (
                _B(
                    "A pressão",
                    "A pressão alta recupera a bola perto do gol adversário, mas "
                    "cansa os jogadores.",
                    "O time de {place} correu {n} quilômetros em uma única partida.",
                ),
                _B(
                    "As transferências",
                    "A janela de transferências transforma cada boato em manchete.",
                    "Um atacante de {place} foi vendido por {n} milhões depois de uma só boa "
                    "temporada.",
                ),
                _B(
                    "A arquibancada",
                    "O público dos jogos de futebol feminino explodiu nas últimas temporadas.",
                    "O clássico em {place} vendeu {n} mil ingressos em menos de uma hora.",
                ),
            ),
            "mental": (
                _B(
                    "O sono",
                    "Acordar sempre no mesmo horário importa mais do que dormir cedo.",
                    "Uma clínica do sono em {place} viu os pacientes ganharem {n} minutos de "
                    "sono em um mês.",
                ),
                _B(
                    "A respiração",
                    "Respirar devagar, umas seis vezes por minuto, acalma o "
                    "sistema nervoso muito rápido.",
                    "Nossa convidada ensina esse exercício para {n} alunos por ano em {place}.",
                ),
                _B(
                    "A terapia",
                    "Procurar terapia não é sinal de fraqueza, é cuidar da saúde "
                    "como qualquer outra coisa.",
                    "O posto de saúde de {place} atende {n} pessoas por semana.",
                ),
            ),
            "entre": (
                _B(
                    "O preço",
                    "A maioria dos empreendedores cobra pouco demais por medo de ouvir um não.",
                    "Uma loja em {place} dobrou os preços e perdeu só {n} clientes.",
                ),
                _B(
                    "Sem investidor",
                    "Uma startup não precisa de investidor para começar, "
                    "precisa de clientes pagantes.",
                    "A empresa saiu de uma garagem em {place} e chegou a {n} funcionários sem "
                    "investimento externo.",
                ),
                _B(
                    "A primeira contratação",
                    "A primeira contratação deve fazer o trabalho que o fundador odeia fazer.",
                    "Nosso convidado contratou uma contadora em {place} depois de {n} meses "
                    "fazendo as contas de madrugada.",
                ),
            ),
            "books": (
                _B(
                    "O romance",
                    "Os grandes romances brasileiros falam de cidades que mudam "
                    "mais rápido do que as pessoas.",
                    "A autora escreveu {n} versões do livro numa casa perto de {place}.",
                ),
                _B(
                    "Em voz alta",
                    "Um poema deve ser lido em voz alta pelo menos uma vez; o "
                    "ritmo carrega metade do sentido.",
                    "O sarau em {place} reuniu {n} pessoas, mais do que o jogo ao lado.",
                ),
                _B(
                    "O cordel",
                    "A literatura de cordel nasceu nas feiras, pendurada em barbantes.",
                    "Um poeta de {place} já publicou {n} folhetos.",
                ),
            ),
            "technews": (
                _B(
                    "O lançamento",
                    "O lançamento do novo celular foi quase todo sobre a "
                    "câmera, e a bateria quase não mudou.",
                    "Os testes em {place} deram {n} horas de tela antes de descarregar.",
                ),
                _B(
                    "A regulação",
                    "Os reguladores finalmente pedem que as grandes empresas de "
                    "tecnologia abram suas lojas de aplicativos.",
                    "A audiência em {place} durou {n} horas e terminou sem decisão.",
                ),
                _B(
                    "Os golpes",
                    "Os golpes pelo celular ficaram mais sofisticados e agora "
                    "imitam até a voz de parentes.",
                    "A polícia de {place} registrou {n} casos só no mês passado.",
                ),
            ),
        },
    ),
    "sv": Talk(
        places=(
            "Umeå",
            "Luleå",
            "Örebro",
            "Växjö",
            "Karlstad",
            "Gävle",
            "Visby",
            "Kalmar",
            "Sundsvall",
            "Falun",
        ),
        intro_chapter="Intro",
        welcome="Välkommen till {show}. Jag heter {host}, och i dag pratar vi om {topic}.",
        cohost="Och jag heter {host}. Kul att vara tillbaka.",
        guest_intro="Min gäst i dag är {guest}, som har ägnat många år åt {topic}.",
        guest_hello="Tack för att jag fick komma, {host}. Jag kan prata om {topic} hela dagen.",
        solo_intro="I dag är det bara jag, så vi går direkt på {topic}.",
        lead_ins=(
            "Så, {guest}, var börjar den här historien?",
            "{guest}, vad förvånade dig mest?",
            "{guest}, berätta hur det gick till.",
        ),
        transitions=(
            "Vi går vidare till något som lyssnarna ofta frågar om.",
            "Härnäst något jag länge har velat ta upp.",
            "Nu en annan sida av historien.",
        ),
        reactions=(
            "Vad spännande.",
            "Så har jag aldrig tänkt på det.",
            "Oj, det är mer än jag trodde.",
            "Precis, och lyssnare har skrivit till oss om just det.",
        ),
        musings=(
            "Många tror att {topic} bara är för experter, men så är det inte.",
            "Det jag gillar med {topic} är att det alltid finns något nytt att lära sig.",
            "Om ni tar med er en sak om {topic} i dag, låt det bli den här.",
        ),
        guest_bye="Tack så mycket, {guest}, det här var jättekul.",
        outro="Det var allt för i dag. Tack för att ni lyssnade på {show}, vi hörs nästa gång.",
        ad="Det här avsnittet presenteras av {brand}. {pitch} Gå till {domain}/podcast och "
        "använd koden {code} för {n} procents rabatt på din första beställning.",
        ad_break="Vi är strax tillbaka efter ett meddelande från vår sponsor.",
        ad_back="Och vi är tillbaka.",
        pitches={
            "coffee": "{brand} rostar färskt kaffe och levererar det hem till dig varannan vecka.",
            "mattress": "Madrasser från {brand} kan du prova i hundra nätter innan du "
            "bestämmer dig.",
            "notebook": "{brand} gör anteckningsböcker med papper som reservoarpennor älskar.",
            "bottle": "En flaska från {brand} håller vattnet kallt en hel dag.",
            "backup": "{brand} säkerhetskopierar alla filer på din dator automatiskt.",
            "mealkit": "{brand} skickar färska råvaror och enkla recept varje vecka.",
            "glasses": "{brand} säljer glasögon med styrka på nätet, med fri retur.",
        },
        blocks={
            "natsci": (
                _B(
                    "Flyttfåglar",
                    "Flyttfåglar hittar vägen med hjälp av jordens magnetfält och stjärnorna.",
                    "Ringmärkare vid {place} räknade {n} svalor en enda septembermorgon.",
                ),
                _B(
                    "Svampnätverk",
                    "Under marken binder svamptrådar ihop trädens rötter och "
                    "flyttar socker mellan dem.",
                    "I en skog utanför {place} täckte en enda svamp en yta stor som {n} "
                    "fotbollsplaner.",
                ),
                _B(
                    "Isen",
                    "Isen på sjöarna lägger sig senare för varje vinter.",
                    "Forskare i {place} har mätt isens tjocklek i {n} år.",
                ),
            ),
            "history": (
                _B(
                    "Handelsmän",
                    "Vikingarna var lika mycket handelsmän som krigare och "
                    "seglade ända till Bagdad.",
                    "Vid {place} har arkeologer hittat {n} arabiska silvermynt.",
                ),
                _B(
                    "Regalskeppet",
                    "Regalskeppet Vasa sjönk på sin första resa efter bara några hundra meter.",
                    "Museet i {place} visar {n} föremål från skeppet.",
                ),
                _B(
                    "Runstenar",
                    "Runstenarna berättar oftast om vanliga människor, inte om kungar.",
                    "Runt {place} finns {n} runstenar längs gamla vägar.",
                ),
            ),
            "tech": (
                _B(
                    "Frivilliga",
                    "De flesta projekt med öppen källkod hålls vid liv av {n} "
                    "frivilliga eller färre.",
                    "När en utvecklare i {place} slutade märkte halva branschen det inom en vecka.",
                ),
                _B(
                    "Kodskolan",
                    "Att lära sig programmera går fortast när man bygger något "
                    "man själv vill använda.",
                    "En kodskola i {place} har utbildat {n} elever i år.",
                ),
                _B(
                    "Lösenord",
                    "De farligaste buggarna är inte smarta attacker utan "
                    "bortglömda standardlösenord.",
                    "Ett team i {place} hittade {n} servrar som inte uppdaterats sedan {year}.",
                ),
            ),
            "doc": (
                _B(
                    "Bruksorten",
                    "Bruksorten levde på sågverket, och när det stängde flyttade de unga.",
                    "I dag bor bara {n} personer kvar i {place} året runt.",
                ),
                _B(
                    "Lanthandeln",
                    "När den sista affären stängde startade byborna en egen lanthandel.",
                    "Butiken utanför {place} ägs i dag av {n} medlemmar.",
                ),
                _B(
                    "Nattåget",
                    "Nattåget norrut är fortfarande det bästa sättet att se landet.",
                    "Konduktören har arbetat på sträckan till {place} i {n} år.",
                ),
            ),
            "langlearn": (
                _B(
                    "Sje-ljudet",
                    "Det svenska sje-ljudet är svårt, men det går att öva in med "
                    "korta dagliga övningar.",
                    "Eleverna i {place} övade {n} ord tills ljudet satt.",
                ),
                _B(
                    "Ordföljd",
                    "I svenska står verbet alltid på andra plats i en huvudsats.",
                    "En kurs i {place} hade {n} deltagare från hela världen.",
                ),
                _B(
                    "Fika",
                    "Fikarasten på jobbet är det bästa stället att öva svenska med kollegor.",
                    "Vår gäst lärde sig {n} nya ord under en enda fika i {place}.",
                ),
            ),
        },
    ),
}
