package relay

import (
	"math/rand/v2"
	"time"
)

// Backoff defaults.
const (
	DefaultBackoffMin = time.Second
	DefaultBackoffMax = 30 * time.Second
)

// stableAfter is how long a connection must last for the next failure to
// start the backoff over.
const stableAfter = 5 * time.Second

// Backoff is the wait between connection attempts: Min after the first
// failure, doubling up to Max, each with ±20% jitter so that relays that
// failed together do not retry together. The zero value is
// DefaultBackoffMin and DefaultBackoffMax.
type Backoff struct {
	Min, Max time.Duration
}

// delay is the wait after the n-th failure in a row (n from 0).
func (b Backoff) delay(n int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultBackoffMin
	}
	if hi <= 0 {
		hi = DefaultBackoffMax
	}
	hi = max(hi, lo)
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}
