package llama

import (
	"math"
	"sync"

	"seal/models/tensor"
)

// An arena is the memory of one stretch of a forward pass, in the manner of llm.c's
// activations allocated once per (B, T): the pass asks for its buffers in the same
// order every time, so the i-th request is served by the i-th buffer, kept from the
// last pass and grown only when a request is larger than it. A pass whose shapes were
// seen before allocates nothing. Every op that writes into an arena buffer writes it
// whole (nothing here accumulates into an activation), so what the last pass left in
// it never shows.
//
// A buffer handed out is a view of its store's first elements (tensor.Sub: the same
// backend memory at offset 0, kept by value in the slot, so handing it out allocates
// nothing on any backend).
type arena struct {
	be    tensor.Backend
	slots []*arenaSlot
	next  int
}

type arenaSlot struct {
	store *tensor.Tensor // the allocation, flat [capacity], from the backend
	view  tensor.Tensor  // what the pass sees: the store's first elements, shaped
	shape [4]int         // the view's shape lives here, so handing it out allocates nothing
}

func (a *arena) reset() { a.next = 0 }

// poisonArenas makes a reused buffer all NaN before it is handed out, so a test shows
// that no pass reads what an earlier pass left (TestArenaBuffersAreWrittenBeforeRead).
var poisonArenas bool

// get returns an F32 tensor of the given shape (at most 4 dimensions), valid until
// the arena is reset and asked again.
func (a *arena) get(shape ...int) *tensor.Tensor {
	n := tensor.Numel(shape)
	if a.next == len(a.slots) {
		a.slots = append(a.slots, &arenaSlot{})
	}
	s := a.slots[a.next]
	a.next++
	if s.store == nil || s.store.Len() < n {
		if s.store != nil {
			a.be.Free(s.store)
		}
		s.store = a.be.Alloc(tensor.F32, max(n, 1))
	} else if poisonArenas {
		a.be.Scale(s.store, float32(math.NaN())) // NaN·x is NaN for every x
	}
	s.view = s.store.Sub(0, s.shape[:copy(s.shape[:], shape)])
	return &s.view
}

// view returns t seen with another shape of the same size (as Tensor.View), its header
// kept in the arena.
func (a *arena) view(t *tensor.Tensor, shape ...int) *tensor.Tensor {
	if a.next == len(a.slots) {
		a.slots = append(a.slots, &arenaSlot{})
	}
	s := a.slots[a.next]
	a.next++
	s.view = *t
	s.view.Shape = s.shape[:copy(s.shape[:], shape)]
	return &s.view
}

// rows returns rows [from, from+n) of t (a matrix), its header kept in the arena.
func (a *arena) rows(t *tensor.Tensor, from, n int) *tensor.Tensor {
	if a.next == len(a.slots) {
		a.slots = append(a.slots, &arenaSlot{})
	}
	s := a.slots[a.next]
	a.next++
	c := t.Cols()
	s.shape[0], s.shape[1] = n, c
	s.view = t.Sub(from*c, s.shape[:2])
	return &s.view
}

// pass is where one forward pass takes its tensors. An inference pass draws from arenas
// kept by the model: the embedding and the final norm from head, layer i from layers[i%2]
// (so a layer's input, the previous layer's output, is never overwritten while it is
// read), and one layer's worth of memory serves every layer. A training pass keeps
// every activation of the step for the backward, and the backward's own tensors, in
// head alone: they live until the model's next training step, which reuses them.
type pass struct {
	be       tensor.Backend
	head     arena
	layers   [2]arena // an inference pass's layers; a training step's backward, layer by layer
	scratch  arena    // a training pass's per-layer tensors that the backward recomputes
	cur      *arena   // where tensor() draws from
	training bool     // one arena for the whole step
	pos      []int32  // positions of the pass's tokens
	past     []int    // cached positions per sequence
	acts     acts     // a training pass's saved activations
}

func newPass(be tensor.Backend) *pass {
	p := &pass{be: be, head: arena{be: be}, scratch: arena{be: be}}
	p.layers[0].be, p.layers[1].be = be, be
	return p
}

// tensor returns a buffer of the current arena (contents undefined: the op that takes
// it writes it whole).
func (p *pass) tensor(shape ...int) *tensor.Tensor { return p.cur.get(shape...) }

// viewOf is t.View(shape...) without an allocation on an inference pass.
func (p *pass) viewOf(t *tensor.Tensor, shape ...int) *tensor.Tensor { return p.cur.view(t, shape...) }

// rows is t.RowRange(from, from+n) without an allocation.
func (p *pass) rows(t *tensor.Tensor, from, n int) *tensor.Tensor { return p.cur.rows(t, from, n) }

// useHead and useLayer choose the arena that the next tensors come from.
func (p *pass) useHead() { p.cur = &p.head }

func (p *pass) useLayer(i int) {
	if !p.training {
		p.cur = &p.layers[i%2]
		p.cur.reset()
		return
	}
	p.scratch.reset()
}

// transient returns a buffer read only within the current layer's forward: in a
// training pass it comes from the scratch arena, which the next layer reuses, and the
// backward recomputes it; otherwise it is an ordinary buffer of the current arena.
func (p *pass) transient(shape ...int) *tensor.Tensor {
	if p.training {
		return p.scratch.get(shape...)
	}
	return p.tensor(shape...)
}

// useBackLayer makes the next layer's backward draw from layers[0], reset: the
// backward's tensors live through one layer, not the whole step. The one tensor a layer
// hands to the next, its dx, comes from carry.
func (p *pass) useBackLayer() {
	p.cur = &p.layers[0]
	p.cur.reset()
}

// carry returns layer i's dx buffer in the backward: slot i%2 of layers[1], so layer i's
// dx is intact while layer i−1 reads it and writes its own.
func (p *pass) carry(i int, shape ...int) *tensor.Tensor {
	a := &p.layers[1]
	for len(a.slots) < 2 {
		a.slots = append(a.slots, &arenaSlot{})
	}
	a.next = i % 2
	return a.get(shape...)
}

// start readies a pass for n tokens in b sequences.
func (p *pass) start(n, b int) {
	p.head.reset()
	p.cur = &p.head
	if cap(p.pos) < n {
		p.pos = make([]int32, n)
	}
	if cap(p.past) < b {
		p.past = make([]int, b)
	}
	p.pos, p.past = p.pos[:n], p.past[:b]
}

// trainingPass returns the model's training pass, ready for a new step.
func (m *Model) trainingPass() *pass {
	if m.train == nil {
		m.train = newPass(m.Backend)
		m.train.training = true
	}
	return m.train
}

// passPool keeps the model's inference passes between calls; concurrent callers get
// passes of their own.
type passPool struct {
	mu   sync.Mutex
	free []*pass
}

func (pp *passPool) get(be tensor.Backend) *pass {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if n := len(pp.free); n > 0 {
		p := pp.free[n-1]
		pp.free = pp.free[:n-1]
		return p
	}
	return newPass(be)
}

func (pp *passPool) put(p *pass) {
	pp.mu.Lock()
	pp.free = append(pp.free, p)
	pp.mu.Unlock()
}
