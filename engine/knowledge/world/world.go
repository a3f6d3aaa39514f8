// Package world generates a deterministic fictional encyclopedia for pretraining a tiny
// language model on, so that SEAL's knowledge-incorporation effect can be measured on
// passages about entities the model has never seen (docs/seal-method.md §6).
//
// A World holds people, places (towns), organisations and events with a few attributes
// each, linked to one another (a person is born in a town and founds an organisation; an
// organisation has its hall in a town; an event is led by a person). Every entity belongs
// to exactly one split, and links never cross splits, so the val and test passages talk
// only about entities that the train corpus never mentions.
//
// Names are built from two syllables out of a small set, so they share pieces as real
// names do; every name is unique within a world. The wording is a handful of regular
// templates over a small vocabulary, suited to a few-thousand-token BPE tokenizer.
//
// Everything is a pure function of the Config (and, for Corpus, its seed): the same
// Config gives byte-identical passages, questions, implications and corpus.
package world

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"seal/engine/knowledge"
)

// Config sizes a world. Counts are major entities: each gets a passage. A few minor
// entities (a sibling or founder without a passage of their own, the organisation of a
// person whose organisation has no passage) are added as links require.
type Config struct {
	Seed    uint64
	People  int
	Places  int
	Orgs    int
	Events  int
	HeldOut float64 // fraction of each kind's entities for the evaluation splits, half val and half test
	Drill   float64 // drill entities, as a fraction of each kind's train count (see Drill)
}

// DefaultConfig is sized so that Corpus(seed, 0) is about 12 M characters, near the knee of the
// pretraining loss that the feasibility run measured for a 2-core CPU budget, with about
// 200 passages each in val and test.
func DefaultConfig() Config {
	return Config{Seed: 1, People: 4000, Places: 1600, Orgs: 1800, Events: 1600, HeldOut: 0.045, Drill: 0.5}
}

// Version changes whenever Generate's output for a given Config changes, so that files
// derived from a world (cached data splits) are never mixed across versions.
// 2: drill entities.
const Version = 2

// Retellings is how many further renderings of each train passage the corpus holds
// beside the passage itself. Allen-Zhu & Li ("Physics of Language Models, Part 3.1",
// 2023) found that facts seen in one wording are stored but cannot be extracted by
// questions, while several paraphrases of each biography in pretraining make the facts
// of new entities extractable once trained on: the skill the inner loop relies on.
const Retellings = 2

// rendering is one telling of a passage, the implications written for it and every fact
// it states with all its question wordings (its Questions ask only a few of them).
type rendering struct {
	passage      knowledge.Passage
	implications []string
	facts        []fact
}

// Split names a partition of the entities.
type Split string

const (
	Train Split = "train" // pretraining corpus
	Val   Split = "val"   // held out (for instance ReST-EM rounds)
	Test  Split = "test"  // held out (final evaluation)
	// Drill entities appear in the corpus only inside self-edit and in-context documents,
	// never as a passage or a closed-book question of their own. Their facts cannot be
	// recalled from memory while the model learns them, so the only way to write their
	// implications or answer from their passage is to read the prompt: this is what
	// teaches the self-edit skill rather than recitation of memorised train facts.
	Drill Split = "drill"
)

// Splits lists the splits in a fixed order.
func Splits() []Split { return []Split{Train, Val, Test} }

type kind uint8

const (
	person kind = iota
	place
	org
	event
)

// entity is one person, place, organisation or event. Links are indices into World.ents.
type entity struct {
	kind  kind
	split Split
	major bool // has a passage
	name  string

	// person
	first   string
	female  bool
	born    int
	town    int // place of birth
	trade   string
	founded int // organisation founded (-1: none)
	sibling int // -1: none

	// place
	river, region string
	// place and organisation
	product string
	year    int // founding year (place, organisation) or year of an event

	// organisation
	desc    string // "guild", "company", ...
	hall    int    // place
	founder int    // person

	// event
	what   string // "strike", "fair", ...
	where  int    // place
	leader int    // person
	days   int
}

// World is a generated encyclopedia. It is immutable after Generate.
type World struct {
	cfg      Config
	ents     []entity
	passages map[Split][]knowledge.Passage
	implics  map[string][]string // by title
	facts    map[string][]fact   // by title: every fact a passage states, for self-QA edits
	names    map[Split][]string
	// retold holds, by title, further renderings of each train passage (other wordings,
	// other optional sentences and questions) with their implications: the corpus's
	// knowledge augmentation. They come from their own random stream, so the splits'
	// passages are the same with or without them.
	retold map[string][]rendering

	bornIn, hallIn map[int][]int // while rendering: major people born in, major organisations with their hall in, a town
}

// Config returns the (normalized) configuration the world was generated from.
func (w *World) Config() Config { return w.cfg }

// normalized clamps counts to ≥ 0 and HeldOut to [0, 0.9].
func (c Config) normalized() Config {
	c.People, c.Places, c.Orgs, c.Events = max(c.People, 0), max(c.Places, 0), max(c.Orgs, 0), max(c.Events, 0)
	if math.IsNaN(c.HeldOut) || c.HeldOut < 0 {
		c.HeldOut = 0
	}
	c.HeldOut = min(c.HeldOut, 0.9)
	if math.IsNaN(c.Drill) || c.Drill < 0 {
		c.Drill = 0
	}
	c.Drill = min(c.Drill, 4)
	return c
}

// splitCounts gives each split's share of n entities: round(n·HeldOut/2) to val and to
// test, the rest to train.
func (c Config) splitCounts(n int) map[Split]int {
	e := int(math.Round(float64(n) * c.HeldOut / 2))
	return map[Split]int{Train: n - 2*e, Val: e, Test: e, Drill: int(math.Round(float64(n-2*e) * c.Drill))}
}

// Generate builds the world for cfg. The same cfg always gives the same world.
func Generate(cfg Config) *World { return generate(cfg, nil) }

// generate is Generate with names that the world must not use (those of another world
// whose facts would otherwise clash with its own).
func generate(cfg Config, reserved map[string]bool) *World {
	cfg = cfg.normalized()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5ea1_7e11d))
	w := &World{
		cfg:      cfg,
		passages: map[Split][]knowledge.Passage{},
		implics:  map[string][]string{},
		facts:    map[string][]fact{},
		names:    map[Split][]string{},
	}
	nm := newNamer(r)
	for n := range reserved {
		nm.used[n] = true
	}
	people, places, orgs, events := cfg.splitCounts(cfg.People), cfg.splitCounts(cfg.Places),
		cfg.splitCounts(cfg.Orgs), cfg.splitCounts(cfg.Events)
	for _, s := range append(Splits(), Drill) {
		w.build(r, nm, s, people[s], places[s], orgs[s], events[s])
	}
	w.bornIn, w.hallIn = map[int][]int{}, map[int][]int{}
	for i, e := range w.ents {
		if e.major && e.kind == person {
			w.bornIn[e.town] = append(w.bornIn[e.town], i)
		}
		if e.major && e.kind == org {
			w.hallIn[e.hall] = append(w.hallIn[e.hall], i)
		}
	}
	for i := range w.ents {
		e := &w.ents[i]
		w.names[e.split] = append(w.names[e.split], e.name)
		if !e.major {
			continue
		}
		t := w.render(r, i)
		w.passages[e.split] = append(w.passages[e.split], t.passage)
		w.implics[t.passage.Title], w.facts[t.passage.Title] = t.implications, t.facts
	}
	rr := rand.New(rand.NewPCG(cfg.Seed, 0x7e7e11))
	w.retold = map[string][]rendering{}
	for i := range w.ents {
		if e := &w.ents[i]; e.major && e.split == Train {
			for range Retellings {
				w.retold[e.name] = append(w.retold[e.name], w.render(rr, i))
			}
		}
	}
	w.bornIn, w.hallIn = nil, nil
	// Kinds were generated in blocks; shuffle so that any prefix of a split mixes them.
	for _, s := range append(Splits(), Drill) {
		ps := w.passages[s]
		r.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	}
	return w
}

// build creates and links the entities of one split.
func (w *World) build(r *rand.Rand, nm *namer, s Split, nPeople, nPlaces, nOrgs, nEvents int) {
	var places, people []int
	for range nPlaces {
		places = append(places, w.newPlace(r, nm, s, true))
	}
	if len(places) == 0 && nPeople+nOrgs+nEvents > 0 {
		places = append(places, w.newPlace(r, nm, s, false))
	}
	// People come in sibling pairs sharing a family name and a birth town; an odd one out
	// gets a minor sibling.
	for i := 0; i < nPeople; i += 2 {
		family := nm.family()
		a := w.newPerson(r, nm, s, true, family, places[r.IntN(len(places))], 0)
		b := w.newPerson(r, nm, s, i+1 < nPeople, family, w.ents[a].town, w.ents[a].born)
		w.ents[a].sibling, w.ents[b].sibling = b, a
		people = append(people, a)
		if w.ents[b].major {
			people = append(people, b)
		}
	}
	minorPerson := func() int {
		return w.newPerson(r, nm, s, false, nm.family(), places[r.IntN(len(places))], 0)
	}
	// Organisations: major ones are founded by distinct major people of the split (minor
	// founders when there are more organisations than people); every other major person
	// founds a minor organisation.
	founders := slices.Clone(people)
	r.Shuffle(len(founders), func(i, j int) { founders[i], founders[j] = founders[j], founders[i] })
	for i := range nOrgs {
		if i < len(founders) {
			w.newOrg(r, nm, s, true, founders[i], places)
		} else {
			w.newOrg(r, nm, s, true, minorPerson(), places)
		}
	}
	for _, p := range people {
		if w.ents[p].founded < 0 {
			w.newOrg(r, nm, s, false, p, places)
		}
	}
	for range nEvents {
		var leader int
		if len(people) > 0 {
			leader = people[r.IntN(len(people))]
		} else {
			leader = minorPerson()
		}
		w.newEvent(r, nm, s, leader, places[r.IntN(len(places))])
	}
}

func (w *World) add(e entity) int {
	w.ents = append(w.ents, e)
	return len(w.ents) - 1
}

func (w *World) newPlace(r *rand.Rand, nm *namer, s Split, major bool) int {
	return w.add(entity{
		kind: place, split: s, major: major, name: nm.place(),
		river: pick(r, nm.rivers), region: pick(r, nm.regions),
		product: pick(r, products), year: 1100 + r.IntN(600),
		founded: -1, sibling: -1, town: -1, hall: -1, founder: -1, where: -1, leader: -1,
	})
}

// newPerson makes a person of the given family born in town; a sibling (near > 0) is
// born within six years of near.
func (w *World) newPerson(r *rand.Rand, nm *namer, s Split, major bool, family string, town, near int) int {
	first, name := nm.person(family)
	born := 1780 + r.IntN(120)
	if near > 0 {
		born = near - 6 + r.IntN(13)
	}
	return w.add(entity{
		kind: person, split: s, major: major, name: name, first: first,
		female: r.IntN(2) == 0, born: born, town: town, trade: pick(r, trades),
		founded: -1, sibling: -1, hall: -1, founder: -1, where: -1, leader: -1,
	})
}

// newOrg makes an organisation founded by founder between the ages of 20 and 45, with its
// hall in the founder's town or another town of the split.
func (w *World) newOrg(r *rand.Rand, nm *namer, s Split, major bool, founder int, places []int) int {
	hall := w.ents[founder].town
	if r.IntN(2) == 0 {
		hall = places[r.IntN(len(places))]
	}
	name, desc := nm.org()
	i := w.add(entity{
		kind: org, split: s, major: major, name: name, desc: desc,
		product: pick(r, products), hall: hall, founder: founder,
		year:    w.ents[founder].born + 20 + r.IntN(26),
		founded: -1, sibling: -1, town: -1, where: -1, leader: -1,
	})
	if w.ents[founder].founded < 0 {
		w.ents[founder].founded = i
	}
	return i
}

// newEvent makes an event led by leader between the ages of 20 and 55.
func (w *World) newEvent(r *rand.Rand, nm *namer, s Split, leader, where int) int {
	return w.add(entity{
		kind: event, split: s, major: true, name: nm.event(),
		what: pick(r, happenings), where: where, leader: leader,
		year: w.ents[leader].born + 20 + r.IntN(36), days: 2 + r.IntN(8),
		founded: -1, sibling: -1, town: -1, hall: -1, founder: -1,
	})
}

// Passages returns the passages of a split (one per major entity), each with 3 to 5
// questions, in a fixed shuffled order: kinds are mixed, so any prefix (say the first 32
// for an evaluation) is a mixed sample. The slice is a copy; its passages share no memory with the world.
func (w *World) Passages(s Split) []knowledge.Passage {
	src := w.passages[s]
	out := make([]knowledge.Passage, len(src))
	for i, p := range src {
		p.Questions = slices.Clone(p.Questions)
		out[i] = p
	}
	return out
}

// Implications returns the written implications of a passage of this world (found by its
// title): one-line restatements of its facts, each naming the subject in full, plus a few
// facts that follow from them. They are the self-edit a model should learn to write.
// A title the world does not know gives nil.
func (w *World) Implications(p knowledge.Passage) []string {
	return slices.Clone(w.implics[p.Title])
}

// Names returns the names of every entity of a split, major or minor, in a fixed order:
// full names of people, towns, organisations and events (without "the").
func (w *World) Names(s Split) []string { return slices.Clone(w.names[s]) }

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// The small fixed vocabulary. Trades, products and happenings start with a consonant so
// that "a" is always the right article.
var (
	trades = []string{"weaver", "baker", "smith", "potter", "miller", "mason", "tailor", "brewer",
		"fisher", "carpenter", "printer", "cooper", "tanner", "dyer", "joiner", "saddler"}
	products = []string{"salt", "wool", "glass", "cheese", "rope", "paper", "bells", "boats",
		"clocks", "lamps", "barrels", "bricks", "candles", "nails", "maps", "shoes", "honey", "linen"}
	happenings = []string{"strike", "fair", "revolt", "march", "feast", "race", "festival", "contest"}
	numbers    = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
)

// namer hands out unique names. Words are two syllables; pools are disjoint: rivers,
// regions, first names, and stems (family names, organisation and event names, town
// names with a town ending).
type namer struct {
	r                       *rand.Rand
	used                    map[string]bool
	rivers, regions, firsts []string
	stems                   []string
}

var syllables = []string{"ka", "lo", "ri", "ve", "mar", "tal", "en", "dor", "sa", "bel", "or", "vin",
	"tha", "mi", "rus", "ke", "ul", "an", "fen", "ga", "lis", "to", "bra", "nor", "ed", "wy",
	"ost", "ha", "li", "cor", "sel", "da"}

var (
	townEndings = []string{"by", "holm", "ford", "wick", "stead", "mere"}
	orgKinds    = [][2]string{{"Guild", "guild"}, {"Company", "company"}, {"Works", "workshop"},
		{"House", "trading house"}, {"Society", "society"}, {"Union", "union"}, {"Circle", "circle"}}
	eventNouns = []string{"Summer", "Winter", "Spring", "Autumn", "Days", "Season", "Matter"}
)

// englishWords are syllable pairs that spell English words or well-known names; they
// are not used as names, so that names never read as template words.
var englishWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`love loan save sake saga total minor have like live lied lien
		brave brake mike haul toga torus halo hake kevin martha eden lisa gave dave rive tori
		sari kari hari dali toed`) {
		englishWords[w] = true
	}
}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func newNamer(r *rand.Rand) *namer {
	var words []string
	for _, a := range syllables {
		for _, b := range syllables {
			if a != b {
				words = append(words, capital(a+b))
			}
		}
	}
	words = slices.DeleteFunc(words, func(w string) bool { return englishWords[strings.ToLower(w)] })
	r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	nm := &namer{r: r, used: map[string]bool{}}
	for _, w := range words {
		nm.used[w] = true
	}
	nm.rivers, nm.regions, nm.firsts, nm.stems = words[:20], words[20:28], words[28:188], words[188:]
	return nm
}

// fresh draws from gen until it gives an unused name, and reserves it. After many
// collisions (a world larger than the two-syllable names allow) gen is asked for longer
// names, with a third syllable on the stem.
func (nm *namer) fresh(gen func(long bool) string) string {
	for try := 0; ; try++ {
		if try > 1_000_000 {
			panic("world: ran out of names")
		}
		if s := gen(try >= 200); !nm.used[s] {
			nm.used[s] = true
			return s
		}
	}
}

// stem is a two-syllable word of the stem pool, or three syllables when long.
func (nm *namer) stem(long bool) string {
	s := pick(nm.r, nm.stems)
	if long {
		s += pick(nm.r, syllables)
	}
	return s
}

func (nm *namer) family() string { return nm.stem(false) }

// person names a member of family; if the family has run out of first names, the
// family name gets a third syllable.
func (nm *namer) person(family string) (first, full string) {
	full = nm.fresh(func(long bool) string {
		first = pick(nm.r, nm.firsts)
		if long {
			return first + " " + family + pick(nm.r, syllables)
		}
		return first + " " + family
	})
	return first, full
}

func (nm *namer) place() string {
	return nm.fresh(func(long bool) string { return nm.stem(long) + pick(nm.r, townEndings) })
}

func (nm *namer) org() (name, desc string) {
	name = nm.fresh(func(long bool) string {
		k := orgKinds[nm.r.IntN(len(orgKinds))]
		desc = k[1]
		return nm.stem(long) + " " + k[0]
	})
	return name, desc
}

func (nm *namer) event() string {
	return nm.fresh(func(long bool) string { return nm.stem(long) + " " + pick(nm.r, eventNouns) })
}
