// Package cors answers the CORS side of the HTTP handlers that serve media
// to browsers (HTTP-FLV, HLS): any origin may read, and a preflight is
// answered for the methods a handler takes.
package cors

import "net/http"

// Handle sets Access-Control-Allow-Origin: * and answers what is not one of
// methods: a preflight (OPTIONS) with 204 and the allowed methods and
// headers, any other method with 405. It reports whether the request
// goes on (its method is one of methods).
func Handle(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	allow := ""
	for _, m := range methods {
		allow += m + ", "
	}
	allow += http.MethodOptions
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", allow)
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
		}
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	h.Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
