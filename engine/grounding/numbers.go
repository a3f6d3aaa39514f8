package grounding

import "strconv"

// class is the role a number word plays in a number written as words.
type class int

const (
	notNumber class = iota
	zero            // zero
	unit            // one to nine
	teen            // ten to nineteen
	ten             // twenty, thirty ... ninety
	hundred         // hundred
	thousand        // thousand
	and             // "and" inside a number: three hundred and five
)

var numberWords = map[string]struct {
	c class
	v int
}{
	"zero": {zero, 0}, "one": {unit, 1}, "two": {unit, 2}, "three": {unit, 3}, "four": {unit, 4},
	"five": {unit, 5}, "six": {unit, 6}, "seven": {unit, 7}, "eight": {unit, 8}, "nine": {unit, 9},
	"ten": {teen, 10}, "eleven": {teen, 11}, "twelve": {teen, 12}, "thirteen": {teen, 13},
	"fourteen": {teen, 14}, "fifteen": {teen, 15}, "sixteen": {teen, 16}, "seventeen": {teen, 17},
	"eighteen": {teen, 18}, "nineteen": {teen, 19},
	"twenty": {ten, 20}, "thirty": {ten, 30}, "forty": {ten, 40}, "fifty": {ten, 50},
	"sixty": {ten, 60}, "seventy": {ten, 70}, "eighty": {ten, 80}, "ninety": {ten, 90},
	"hundred": {hundred, 100}, "thousand": {thousand, 1000},
}

// numberRun is a number being read from consecutive number words. It only grows in the
// shapes English writes numbers in, so its value stays below a million.
type numberRun struct {
	parts         []*part
	prev          class
	total, group  int  // thousands already read; the part below a thousand
	sawThousand   bool // a thousand in the run
	sawHundred    bool // a hundred since the last thousand
	singleInGroup bool // the group so far is one unit or teen word ("nineteen" hundred)
}

// continues says whether a word of class c extends the run.
func (r *numberRun) continues(c class) bool {
	numeral := c == unit || c == teen || c == ten
	switch r.prev {
	case unit, teen:
		return (c == hundred && !r.sawHundred && r.singleInGroup) || (c == thousand && !r.sawThousand)
	case ten:
		return c == unit || (c == thousand && !r.sawThousand)
	case hundred:
		return c == and || numeral || (c == thousand && !r.sawThousand)
	case thousand:
		return c == and || numeral
	case and:
		return numeral
	}
	return false
}

func (r *numberRun) add(p *part, c class, v int) {
	r.parts = append(r.parts, p)
	switch c {
	case unit, teen, ten, zero:
		r.singleInGroup = r.group == 0 && !r.sawHundred && c != ten
		r.group += v
	case hundred:
		r.group = max(r.group, 1) * 100
		r.sawHundred = true
		r.singleInGroup = false
	case thousand:
		r.total = max(r.group, 1) * 1000
		r.group, r.sawThousand, r.sawHundred, r.singleInGroup = 0, true, false, false
	}
	r.prev = c
}

// finish gives each word of the run, an inner "and" too, the run's value as its key. A
// trailing "and" was no part of the number and keeps its own key.
func (r *numberRun) finish() {
	if r.prev == and {
		r.parts = r.parts[:len(r.parts)-1]
	}
	key := strconv.Itoa(r.total + r.group)
	for _, p := range r.parts {
		p.key = key
	}
}

// readNumbers finds the numbers written as words among a line's parts, across hyphens
// and spaces ("twenty-one", "twenty one"), and keys each of their words by the number's
// digits, so that they match the number written in digits.
func readNumbers(toks []token) {
	var r numberRun
	for i := range toks {
		for j := range toks[i].parts {
			p := &toks[i].parts[j]
			nw, ok := numberWords[p.norm]
			c := nw.c
			if !ok && p.norm == "and" {
				c = and
			}
			if c != notNumber && len(r.parts) > 0 && r.continues(c) {
				r.add(p, c, nw.v)
				continue
			}
			r.finish()
			r = numberRun{}
			if c != notNumber && c != and {
				r.add(p, c, nw.v)
			}
		}
	}
	r.finish()
}
