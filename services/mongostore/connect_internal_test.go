package mongostore

import "testing"

func TestClientOptionsKeepAPoolSizeTheURISets(t *testing.T) {
	for uri, want := range map[string]uint64{
		"mongodb://127.0.0.1:27017/":                 MaxPoolSize,
		"mongodb://127.0.0.1:27017/?maxPoolSize=200": 200,
	} {
		opts := clientOptions(uri)
		if opts.MaxPoolSize == nil || *opts.MaxPoolSize != want || opts.Timeout == nil || *opts.Timeout != opTimeout {
			t.Errorf("%s: pool %v, timeout %v; want %d and %s", uri, opts.MaxPoolSize, opts.Timeout, want, opTimeout)
		}
	}
}
