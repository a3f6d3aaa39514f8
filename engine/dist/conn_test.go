package dist

import (
	"errors"
	"strings"
	"testing"

	"seal/engine/redact"
)

// A password in the server URL would be printed in every connection error: it is
// refused before any dial, without being echoed.
func TestConnectRefusesCredentialsInURL(t *testing.T) {
	for _, u := range []string{"nats://alice:hunter2pw@127.0.0.1:1", "nats://127.0.0.1:1,tls://bob:hunter2pw@h:4222"} {
		_, err := Connect(ConnOptions{URL: u})
		if !errors.Is(err, redact.ErrCredentialsInURL) || strings.Contains(err.Error(), "hunter2pw") || !strings.Contains(err.Error(), "SEAL_NATS_PASSWORD") {
			t.Errorf("Connect(%q) = %v: want a refusal naming $SEAL_NATS_PASSWORD without the password", u, err)
		}
	}
}
