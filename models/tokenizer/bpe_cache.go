package tokenizer

import (
	"hash/maphash"
	"sync"
)

// wordCache remembers the merge result of recent words. It is sharded so concurrent Encode
// calls rarely touch the same lock, and bounded: a full shard is simply emptied, which keeps
// memory fixed without LRU bookkeeping in the hot path.
type wordCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const (
	cacheShards   = 16
	cacheShardCap = 4096 // words per shard
	cacheMaxWord  = 256  // longer words are rare and not worth keeping
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
}

func newWordCache() *wordCache {
	return &wordCache{seed: maphash.MakeSeed()}
}

func (c *wordCache) shard(word []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, word)%cacheShards]
}

// get returns the cached ids of word; callers must not modify them.
func (c *wordCache) get(word []byte) ([]int32, bool) {
	if len(word) > cacheMaxWord {
		return nil, false
	}
	s := c.shard(word)
	s.mu.RLock()
	ids, ok := s.m[string(word)]
	s.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(word []byte, ids []int32) {
	if len(word) > cacheMaxWord {
		return
	}
	s := c.shard(word)
	s.mu.Lock()
	if s.m == nil || len(s.m) >= cacheShardCap {
		s.m = make(map[string][]int32, 256)
	}
	s.m[string(word)] = ids
	s.mu.Unlock()
}
