// Package dist runs inner-loop jobs over NATS JetStream: the coordinator side (an
// engine.Executor that publishes a batch of jobs and collects their results) and the
// worker side (`seal worker`), which pulls jobs, checks the model by content hash,
// runs them and publishes results.
package dist

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"seal/engine/redact"
)

// ConnOptions say how to reach the NATS server. Credentials come from flags or the
// environment and are never written anywhere.
type ConnOptions struct {
	URL      string
	Name     string // shown in the server's connection list
	Creds    string // a .creds file (JWT and nkey seed)
	User     string
	Password string
	TLSCA    string
	TLSCert  string
	TLSKey   string
}

// WithEnv fills User and Password from SEAL_NATS_USER and SEAL_NATS_PASSWORD where the
// flags left them empty.
func (o ConnOptions) WithEnv() ConnOptions {
	if o.User == "" {
		o.User = os.Getenv("SEAL_NATS_USER")
	}
	if o.Password == "" {
		o.Password = os.Getenv("SEAL_NATS_PASSWORD")
	}
	return o
}

// Connect dials the server; a lost connection is retried without end (a worker outlives
// a server restart).
func Connect(o ConnOptions) (*nats.Conn, error) {
	if o.URL == "" {
		return nil, fmt.Errorf("nats: no server URL")
	}
	if redact.HasUserinfo(o.URL) { // a URL is printed in errors and logs: no password in it
		return nil, fmt.Errorf("nats: --nats %q: %w; give the user with --nats-user or $SEAL_NATS_USER and the password in $SEAL_NATS_PASSWORD (or a --nats-creds file)",
			redact.Secrets(o.URL), redact.ErrCredentialsInURL)
	}
	opts := []nats.Option{nats.Name(o.Name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
	switch {
	case o.Creds != "" && o.User != "":
		return nil, fmt.Errorf("nats: give a creds file or a user, not both")
	case o.Creds != "":
		if _, err := os.Stat(o.Creds); err != nil {
			return nil, fmt.Errorf("nats creds: %w", err)
		}
		opts = append(opts, nats.UserCredentials(o.Creds))
	case o.User != "":
		opts = append(opts, nats.UserInfo(o.User, o.Password))
	}
	if o.TLSCA != "" {
		opts = append(opts, nats.RootCAs(o.TLSCA))
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, fmt.Errorf("nats: a TLS client certificate needs both --nats-tls-cert and --nats-tls-key")
	}
	if o.TLSCert != "" {
		opts = append(opts, nats.ClientCert(o.TLSCert, o.TLSKey))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", o.URL, err)
	}
	return nc, nil
}
