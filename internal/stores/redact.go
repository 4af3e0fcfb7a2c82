package stores

import "net/url"

// redactURI hides the password of a connection URI, for messages.
func redactURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(malformed URI)"
	}
	return u.Redacted()
}
