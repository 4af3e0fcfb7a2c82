package testenv

import "strings"

// BadIDs are identifiers every service must refuse, by the problem each has.
func BadIDs() map[string]string {
	return map[string]string{
		"is empty":               "",
		"bytes long":             strings.Repeat("x", 65),
		"contains '$'":           "ab$cd",
		"contains '.'":           "ab.cd",
		"contains a NUL":         "ab\x00cd",
		"is not valid UTF-8":     "ab\xffcd",
		"contains the character": "ab cd",
	}
}
