package engine

// Workers is the state of the workers that run a run's inner loops, sent periodically
// by a remote executor (coalesced like metric streams).
type Workers struct {
	Run        int64        `json:"run"`
	Workers    []WorkerInfo `json:"workers"`
	QueueDepth int          `json:"queue_depth"` // jobs waiting or in flight
}

// WorkerInfo is one worker as it last reported itself.
type WorkerInfo struct {
	Name       string  `json:"name"`
	Device     string  `json:"device"`
	Jobs       int     `json:"jobs"`         // jobs finished since it started
	JobsPerSec float64 `json:"jobs_per_sec"` // over its lifetime
	Busy       bool    `json:"busy"`
	// Jobs this worker could not finish: Retried went back to the queue for any worker
	// (a download, disk or server error, or a failure before the last delivery);
	// Rejected became dead letters (a job no try can mend, or its last delivery failed).
	Retried  int `json:"retried,omitempty"`
	Rejected int `json:"rejected,omitempty"`
}

func (Workers) EventType() string { return "workers" }
