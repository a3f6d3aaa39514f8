package grounding

import "strings"

// stem is the light stemmer: it removes inflections (plural -s or -es, -ied or -ies to
// y, -ed, -ing) when a stem of three letters or more is left, then drops a final e and
// undoubles a final doubled letter, so that "bake", "baked", "bakes" and "baking" all
// become "bak". It is not English morphology; it only has to treat passage and edit alike.
func stem(w string) string {
	if w == "" || !isWordOfLetters(w) {
		return w
	}
	// Repeated, so that "buildings" and "building" both reach build.
	for s := stripInflection(w); s != w; s = stripInflection(w) {
		w = s
	}
	if n := len(w); n > 3 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	if n := len(w); n > 3 && w[n-1] == w[n-2] {
		w = w[:n-1]
	}
	return w
}

func stripInflection(w string) string {
	cut := func(suffix, repl string) (string, bool) {
		if s, ok := strings.CutSuffix(w, suffix); ok && len(s) >= 3 {
			return s + repl, true
		}
		return w, false
	}
	for _, r := range []struct{ suffix, repl string }{{"ies", "y"}, {"ied", "y"}, {"ing", ""}, {"ed", ""}} {
		if s, ok := cut(r.suffix, r.repl); ok {
			return s
		}
	}
	for _, sib := range []string{"sses", "xes", "zes", "ches", "shes"} {
		if strings.HasSuffix(w, sib) {
			if s, ok := cut("es", ""); ok {
				return s
			}
		}
	}
	// A final s after ss, us or is is no plural: glass, status, analysis.
	for _, keep := range []string{"ss", "us", "is"} {
		if strings.HasSuffix(w, keep) {
			return w
		}
	}
	s, _ := cut("s", "")
	return s
}

// isWordOfLetters says whether w is plain ASCII letters, the only words the stemmer's
// suffixes are written for; other words match as they are.
func isWordOfLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// stopWords are never content: determiners, pronouns, auxiliaries, prepositions,
// conjunctions and a few adverbs that carry no fact of their own. Contractions are listed
// without their apostrophe, as the matcher reads them.
var stopWords = setOf(`
	a an the this that these those some any each every no all both either neither such what
	which whose another other same own
	i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his
	himself she her hers herself it its itself they them their theirs themselves who whom
	whoever whatever something anything nothing someone anyone everyone everything
	be am is are was were been being have has had having do does did doing done will would
	shall should can could may might must ought
	about above across after against along among amongst around at before behind below
	beneath beside besides between beyond by down during except for from in inside into near
	of off on onto out outside over past since through throughout till to toward towards
	under underneath until up upon via with within without per
	and but or nor so yet because although though while whereas if unless than as whether
	then also not either once
	there here where when why how very just too only even still ever again
	dont doesnt didnt isnt arent wasnt werent hasnt havent hadnt wont wouldnt cant couldnt
	shouldnt youre hes shes theyre ive youve weve theyve youll theyll youd theyd thats theres
	whats whos
`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
