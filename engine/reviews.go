package engine

import (
	"seal/store"
)

// waitIfPaused holds the run at a candidate boundary while paused, and records
// reviews that arrive meanwhile.
func (x *runner) waitIfPaused() error {
	for {
		x.r.mu.Lock()
		paused, ch := x.r.paused, x.r.resume
		x.r.mu.Unlock()
		if !paused {
			return x.ctx.Err()
		}
		x.r.send(Status{Run: x.r.ID, Status: store.StatusPaused})
		select {
		case <-ch:
			x.r.send(Status{Run: x.r.ID, Status: store.StatusRunning})
		case rv := <-x.r.reviews:
			x.recordReview(rv)
		case <-x.ctx.Done():
			return x.ctx.Err()
		}
	}
}

func (x *runner) recordReview(rv review) {
	_, err := x.e.DB.SaveReview(rv.Review)
	rv.reply <- err
	if err == nil {
		x.r.send(Reviewed{CandidateID: rv.CandidateID, Verdict: rv.Verdict, Reason: rv.Reason})
	}
}

// drainReviews records reviews that are waiting, without blocking.
func (x *runner) drainReviews() {
	for {
		select {
		case rv := <-x.r.reviews:
			x.recordReview(rv)
		default:
			return
		}
	}
}

// awaitReviews blocks until every committed candidate of the list has a verdict.
func (x *runner) awaitReviews(cands []store.Candidate) error {
	for {
		reviews, err := x.e.DB.LatestReviews(x.r.ID)
		if err != nil {
			return err
		}
		pending := 0
		for _, c := range cands {
			if _, ok := reviews[c.ID]; !ok && c.Status == "done" {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		select {
		case rv := <-x.r.reviews:
			x.recordReview(rv)
		case <-x.ctx.Done():
			return x.ctx.Err()
		}
	}
}
