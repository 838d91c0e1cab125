//go:build race

package chunk

// raceEnabled: the race detector's sync.Pool drops some of what is put
// back, so allocation counts that rely on the pool do not hold.
const raceEnabled = true
