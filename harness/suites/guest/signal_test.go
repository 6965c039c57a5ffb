package guest_test

import (
	"os"
	"os/signal"
)

// notifyInterrupt closes ch at the first SIGINT (as the run's handler cancels its context).
func notifyInterrupt(ch chan struct{}) (stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	go func() {
		if _, ok := <-c; ok {
			close(ch)
		}
	}()
	return func() { signal.Stop(c); close(c) }
}
