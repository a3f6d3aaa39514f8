package knowledge

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// pythonCases are outputs computed by testdata/gen_python_cases.py with Python's own string
// semantics, on strings full of Unicode spaces, line breaks, "---" and self-QA markers.
type pythonCases struct {
	Sequences []struct {
		Edit    string   `json:"edit"`
		Title   string   `json:"title"`
		Passage string   `json:"passage"`
		Split   bool     `json:"split"`
		Want    []string `json:"want"`
	} `json:"sequences"`
	Text []struct {
		Pred     string  `json:"pred"`
		Gold     string  `json:"gold"`
		NormPred string  `json:"norm_pred"`
		NormGold string  `json:"norm_gold"`
		EM       bool    `json:"em"`
		F1       float64 `json:"f1"`
		Contains bool    `json:"contains"`
		Verdict  bool    `json:"verdict"`
	} `json:"text"`
}

func loadPythonCases(t *testing.T) pythonCases {
	t.Helper()
	data, err := os.ReadFile("testdata/python_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var pc pythonCases
	if err := json.Unmarshal(data, &pc); err != nil {
		t.Fatal(err)
	}
	if len(pc.Sequences) == 0 || len(pc.Text) == 0 {
		t.Fatal("no cases in testdata/python_cases.json")
	}
	return pc
}

func TestTrainSequencesMatchPython(t *testing.T) {
	for i, c := range loadPythonCases(t).Sequences {
		got := TrainSequences(c.Edit, Passage{Title: c.Title, Context: c.Passage}, c.Split)
		if !slices.Equal(got, c.Want) {
			t.Errorf("case %d: TrainSequences(%q, split=%v)\n got %q\nwant %q", i, c.Edit, c.Split, got, c.Want)
		}
	}
}

func TestTextMetricsMatchPython(t *testing.T) {
	for i, c := range loadPythonCases(t).Text {
		if got := Normalize(c.Pred); got != c.NormPred {
			t.Errorf("case %d: Normalize(%q) = %q, Python %q", i, c.Pred, got, c.NormPred)
		}
		if got := Normalize(c.Gold); got != c.NormGold {
			t.Errorf("case %d: Normalize(%q) = %q, Python %q", i, c.Gold, got, c.NormGold)
		}
		if got := ExactMatch(c.Pred, c.Gold); got != c.EM {
			t.Errorf("case %d: ExactMatch(%q, %q) = %v, Python %v", i, c.Pred, c.Gold, got, c.EM)
		}
		if got := F1(c.Pred, c.Gold); math.Abs(got-c.F1) > 1e-12 {
			t.Errorf("case %d: F1(%q, %q) = %v, Python %v", i, c.Pred, c.Gold, got, c.F1)
		}
		// Python's `"" in s` is always true; Contains deliberately differs for a gold that
		// normalizes to nothing (see its comment), so only the other cases must agree.
		if c.NormGold != "" {
			if got := Contains(c.Pred, c.Gold); got != c.Contains {
				t.Errorf("case %d: Contains(%q, %q) = %v, Python %v", i, c.Pred, c.Gold, got, c.Contains)
			}
		}
		if got := ParseVerdict(c.Pred); got != c.Verdict {
			t.Errorf("case %d: ParseVerdict(%q) = %v, Python %v", i, c.Pred, got, c.Verdict)
		}
	}
}
