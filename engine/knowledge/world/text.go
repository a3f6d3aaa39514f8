package world

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"seal/engine/knowledge"
)

// fact is one thing a passage states that can be asked about: question wordings (none
// of which repeats the words the passage states it with) and the answer, which appears
// in the passage verbatim.
type fact struct {
	questions []string
	answer    string
}

// draft collects a passage as it is written.
type draft struct {
	sents []string
	facts []fact
	imps  []string
}

func (d *draft) say(s string)                    { d.sents = append(d.sents, s) }
func (d *draft) ask(answer string, qs ...string) { d.facts = append(d.facts, fact{qs, answer}) }
func (d *draft) imply(s ...string)               { d.imps = append(d.imps, s...) }

// one picks one of several wordings.
func one(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }

// extras picks k of n optional sentences (k in [lo, hi], at most n), in their order.
func extras(r *rand.Rand, n, lo, hi int) []bool {
	k := min(lo+r.IntN(hi-lo+1), n)
	on := make([]bool, n)
	for _, i := range r.Perm(n)[:k] {
		on[i] = true
	}
	return on
}

func year(y int) string { return strconv.Itoa(y) }

func (e *entity) he() string {
	if e.female {
		return "she"
	}
	return "he"
}

func (e *entity) his() string {
	if e.female {
		return "her"
	}
	return "his"
}

// sibWord is what e is to its sibling.
func (e *entity) sibWord() string {
	if e.female {
		return "sister"
	}
	return "brother"
}

// render writes the passage of major entity i: its sentences, 3 to 5 questions over the
// facts it states, its implications and every fact it states.
func (w *World) render(r *rand.Rand, i int) rendering {
	e := &w.ents[i]
	var d draft
	switch e.kind {
	case person:
		w.renderPerson(r, e, &d)
	case place:
		w.renderPlace(r, i, &d)
	case org:
		w.renderOrg(r, e, &d)
	case event:
		w.renderEvent(r, e, &d)
	}
	n := min(3+r.IntN(3), len(d.facts))
	chosen := r.Perm(len(d.facts))[:n]
	slices.Sort(chosen)
	p := knowledge.Passage{Title: e.name, Context: strings.Join(d.sents, " ")}
	for _, f := range chosen {
		fa := d.facts[f]
		p.Questions = append(p.Questions, knowledge.Question{Question: one(r, fa.questions...), Answer: fa.answer})
	}
	return rendering{p, d.imps, d.facts}
}

func (w *World) renderPerson(r *rand.Rand, e *entity, d *draft) {
	n, town := e.name, &w.ents[e.town]
	t, y := town.name, year(e.born)
	d.say(one(r, n+" was born in "+t+" in "+y+".", n+" was born in "+y+" in the town of "+t+"."))
	d.ask(t, "In which town did "+n+" come into the world?", "Which town is the birthplace of "+n+"?",
		"What is the home town of "+n+"?")
	d.ask(y, "In what year did "+n+" come into the world?", "What is the birth year of "+n+"?")
	d.imply(one(r, n+" was born in the town of "+t+".", "The home town of "+n+" is "+t+".",
		n+" came into the world in "+t+"."),
		one(r, n+" was born in "+y+".", "The birth year of "+n+" is "+y+".", n+" came into the world in "+y+"."))

	// The second sentence names the subject by first name or pronoun only.
	subj := one(r, e.first, capital(e.he()))
	d.say(subj + one(r, " worked as a ", " made a living as a ", " earned a living as a ") + e.trade + ".")
	d.ask(e.trade, "What was the trade of "+n+"?", "Which craft did "+n+" follow?")
	d.imply(one(r, n+" worked as a "+e.trade+".", n+" was a "+e.trade+" by trade.",
		"The trade of "+n+" was that of a "+e.trade+"."))

	on := extras(r, 3, 1, 3)
	if on[0] {
		o := &w.ents[e.founded]
		yf := year(o.year)
		if r.IntN(2) == 0 {
			d.say("In " + yf + ", " + one(r, e.first, e.he()) + " founded the " + o.name + ".")
		} else {
			d.say(one(r, e.first, capital(e.he())) + " founded the " + o.name + " in " + yf + ".")
		}
		d.ask(o.name, "Which organisation did "+n+" set up?", "What did "+n+" establish in "+yf+"?")
		d.ask(yf, "In what year did "+n+" set up the "+o.name+"?", "When did "+n+" establish the "+o.name+"?")
		d.imply(one(r, n+" founded the "+o.name+" in "+yf+".", "The "+o.name+" was set up by "+n+" in "+yf+".",
			n+" established the "+o.name+" in "+yf+"."),
			n+" was "+strconv.Itoa(o.year-e.born)+" years old when "+e.he()+" founded the "+o.name+".")
	}
	if on[1] {
		s := &w.ents[e.sibling]
		switch r.IntN(3) {
		case 0:
			d.say(capital(e.his()) + " " + s.sibWord() + " was " + s.name + ".")
		case 1:
			d.say(one(r, e.first, capital(e.he())) + " had a " + s.sibWord() + ", " + s.name + ".")
		default:
			d.say(s.name + " was " + e.his() + " " + s.sibWord() + ".")
		}
		d.ask(s.name, "Who was the sibling of "+n+"?", "Which sibling did "+n+" have?")
		d.imply(one(r, n+" and "+s.name+" were siblings.", s.name+" was the "+s.sibWord()+" of "+n+".",
			n+" had a "+s.sibWord()+" named "+s.name+"."),
			s.name+" had a "+e.sibWord()+" named "+n+".")
	}
	if on[2] {
		d.say(one(r, t+" lies on the river "+town.river+".", "The river "+town.river+" runs through "+t+"."))
		d.ask(town.river, "Which river flows past the home town of "+n+"?",
			"Which river flows past the birthplace of "+n+"?")
		d.imply(one(r, n+" was born in "+t+", a town on the river "+town.river+".",
			"The river "+town.river+" flows past "+t+", the home town of "+n+"."))
	}
}

func (w *World) renderPlace(r *rand.Rand, i int, d *draft) {
	e := &w.ents[i]
	t, riv, reg, y := e.name, e.river, e.region, year(e.year)
	d.say(one(r, t+" is a town on the river "+riv+", in the region of "+reg+".",
		t+" is a town in the region of "+reg+", on the river "+riv+"."))
	d.ask(riv, "Which river flows past "+t+"?", "Which river passes by "+t+"?")
	d.ask(reg, "To which region does "+t+" belong?", "In which part of the land does "+t+" lie?")
	d.imply(one(r, t+" lies on the river "+riv+".", "The river "+riv+" flows past "+t+"."),
		one(r, t+" is in the region of "+reg+".", t+" belongs to the region of "+reg+"."))

	d.say(one(r, "It", "The town") + " was founded in " + y + ".")
	d.ask(y, "In what year was "+t+" established?", "When did "+t+" come into being?")
	d.imply(one(r, t+" was founded in "+y+".", t+" has stood since "+y+"."))

	d.say(one(r, t, "The town") + " is known for its " + e.product + ".")
	d.ask(e.product, "What is "+t+" famous for?", "What goods come from "+t+"?")
	d.imply(one(r, t+" is famous for its "+e.product+".", "People know "+t+" for its "+e.product+"."))

	// Optional sentences without questions: someone born there, an organisation's hall.
	born, halls := w.bornIn[i], w.hallIn[i]
	on := extras(r, 2, 0, 2)
	if on[0] && len(born) > 0 {
		p := &w.ents[born[r.IntN(len(born))]]
		d.say("The " + p.trade + " " + p.name + " was born there.")
		d.imply(p.name + " was born in " + t + ".")
	}
	if on[1] && len(halls) > 0 {
		o := &w.ents[halls[r.IntN(len(halls))]]
		d.say("The hall of the " + o.name + " stands in " + t + ".")
		d.imply("The " + o.name + " has its hall in " + t + ".")
	}
}

func (w *World) renderOrg(r *rand.Rand, e *entity, d *draft) {
	o, hall, f := e.name, &w.ents[e.hall], &w.ents[e.founder]
	the := "the " + o
	d.say("The " + o + " is a " + e.desc + " that makes " + e.product + ".")
	d.ask(e.product, "What does "+the+" produce?", "What goods come from "+the+"?")
	d.imply(one(r, "The "+o+" makes "+e.product+".", "The "+o+" produces "+e.product+"."))

	// The second sentence refers to the subject by pronoun or common noun.
	d.say(one(r, "Its hall stands in "+hall.name+".", "The "+e.desc+" has its hall in "+hall.name+"."))
	d.ask(hall.name, "In which town is "+the+" based?", "Where is "+the+" based?")
	d.imply(one(r, "The "+o+" has its hall in "+hall.name+".", "The "+o+" is based in "+hall.name+"."))

	y := year(e.year)
	d.say(one(r, "It was founded in "+y+" by "+f.name+".", f.name+" founded it in "+y+"."))
	d.ask(f.name, "Who established "+the+"?", "Who was the founder of "+the+"?")
	d.ask(y, "In what year did "+the+" begin?", "When was "+the+" set up?")
	d.imply(one(r, "The "+o+" was founded by "+f.name+".", f.name+" set up the "+o+"."),
		one(r, "The "+o+" was founded in "+y+".", "The "+o+" has existed since "+y+"."))

	on := extras(r, 2, 0, 2)
	if on[0] {
		ft := w.ents[f.town].name
		d.say(f.name + " was a " + f.trade + " from " + ft + ".")
		d.ask(f.trade, "What was the trade of the founder of "+the+"?")
		d.imply("The founder of the " + o + ", " + f.name + ", was a " + f.trade + ".")
	}
	if on[1] {
		d.say(hall.name + " lies on the river " + hall.river + ".")
		d.ask(hall.river, "Which river flows past the home of "+the+"?")
		d.imply(hall.name + ", where the " + o + " has its hall, lies on the river " + hall.river + ".")
	}
}

func (w *World) renderEvent(r *rand.Rand, e *entity, d *draft) {
	ev, town, l := e.name, &w.ents[e.where], &w.ents[e.leader]
	the, y := "the "+ev, year(e.year)
	d.say(one(r, "The "+ev+" took place in "+town.name+" in "+y+".",
		"The "+ev+" took place in "+y+" in the town of "+town.name+"."))
	d.ask(town.name, "Where did "+the+" happen?", "In which town did "+the+" happen?")
	d.ask(y, "In which year did "+the+" happen?", "When did "+the+" happen?")
	d.imply(one(r, "The "+ev+" happened in "+town.name+".", "The "+ev+" was held in "+town.name+"."),
		one(r, "The "+ev+" happened in "+y+".", "The "+ev+" was held in the year "+y+"."))

	d.say(one(r, "It was a "+e.what+" led by "+l.name+".", "It was a "+e.what+", and "+l.name+" led it."))
	d.ask(e.what, "What sort of event was "+the+"?")
	d.ask(l.name, "Who was the leader of "+the+"?", "Who headed "+the+"?")
	d.imply("The "+ev+" was a "+e.what+".",
		one(r, "The "+ev+" was led by "+l.name+".", l.name+" was the leader of the "+ev+"."),
		l.name+" was "+strconv.Itoa(e.year-l.born)+" years old at the time of the "+ev+".")

	days := numbers[e.days]
	d.say("The " + e.what + " went on for " + days + " days.")
	d.ask(days, "How many days did "+the+" last?")
	d.imply("The " + ev + " lasted " + days + " days.")

	on := extras(r, 2, 0, 2)
	if on[0] {
		d.say(l.name + " was a " + l.trade + " from " + w.ents[l.town].name + ".")
		d.ask(l.trade, "What was the trade of the leader of "+the+"?")
		d.imply("The leader of the " + ev + ", " + l.name + ", was a " + l.trade + ".")
	}
	if on[1] {
		d.say(town.name + " lies on the river " + town.river + ".")
		d.ask(town.river, "Which river flows past the town where "+the+" happened?")
		d.imply("The " + ev + " happened in " + town.name + ", a town on the river " + town.river + ".")
	}
}
