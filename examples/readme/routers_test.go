package readme

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
	"github.com/gatekeep/gatekeep/config"
)

func chiRouter(st *config.Stack) http.Handler {
	r := chi.NewRouter()
	gatekeepchi.Mount(r, st.Auth) // the whole API, as st.Auth.Mount does on a ServeMux
	r.Group(func(r chi.Router) {
		r.Use(st.Auth.Require) // auth's middleware is func(http.Handler) http.Handler
		r.Get("/notes", listNotes)
		r.With(st.Auth.Authorize("admin")).Delete("/notes/{id}", deleteNote)
	})
	return r
}
