package auth

import "net/http"

// meInfo is the body of GET /me.
type meInfo struct {
	UserInfo
	MFA bool `json:"mfa"`
}

// TOTPSetupHandler returns the handler of POST /auth/2fa/totp/setup: with
// a valid access token, 200 [TOTPSetup] {"secret","otpauth_uri","qr_code"}
// for a fresh, not yet active secret ([Authenticator.EnrolTOTP]); 400 when
// the user's second factor is already on; 503 unavailable when the server
// has no key-encryption key ([WithKeyEncryptionKey]).
func (a *Authenticator) TOTPSetupHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodPost, authed: true,
		serve: func(w http.ResponseWriter, r *http.Request, p *Principal) error {
			out, err := a.EnrolTOTP(r.Context(), p)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, out)
			return nil
		}})
}

// TOTPConfirmHandler returns the handler of POST /auth/2fa/totp/confirm:
// with a valid access token and body {"code"}, 200 {"recovery_codes":[...]}
// (ten, shown once) once the pending secret is active
// ([Authenticator.ConfirmTOTP]); 401 invalid_credentials for a wrong code;
// 400 without a pending enrolment; 429 when the codes are throttled.
func (a *Authenticator) TOTPConfirmHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodPost, authed: true,
		serve: func(w http.ResponseWriter, r *http.Request, p *Principal) error {
			var in struct {
				Code secret `json:"code"`
			}
			if err := decodeJSON(w, r, &in); err != nil {
				return err
			}
			codes, err := a.ConfirmTOTP(r.Context(), p, string(in.Code))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
			return nil
		}})
}

// TOTPDisableHandler returns the handler of POST /auth/2fa/totp/disable:
// with a valid access token and body {"password","code"} (a TOTP code or
// a recovery code), 204 once the second factor is off
// ([Authenticator.DisableTOTP]); 401 invalid_credentials for a wrong
// password or code; 400 when it is not on; 429 when throttled.
func (a *Authenticator) TOTPDisableHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodPost, authed: true,
		serve: func(w http.ResponseWriter, r *http.Request, p *Principal) error {
			var in struct {
				Password secret `json:"password"`
				Code     secret `json:"code"`
			}
			if err := decodeJSON(w, r, &in); err != nil {
				return err
			}
			if err := a.DisableTOTP(r.Context(), p, string(in.Password), string(in.Code), a.ClientOf(r)); err != nil {
				return err
			}
			noContent(w)
			return nil
		}})
}

// VerifyMFAHandler returns the handler of POST /auth/2fa/verify: body
// {"mfa_token","code"} or {"mfa_token","recovery_code"}; 200 with a
// [TokenResponse] (and the cookies, in cookie mode) as for a login
// ([Authenticator.VerifyMFA]); 401 invalid_token for an unusable mfa
// token, invalid_credentials for a wrong, replayed or used code; 429
// too_many_attempts with Retry-After once the user's codes have failed
// too often.
func (a *Authenticator) VerifyMFAHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodPost, serve: func(w http.ResponseWriter, r *http.Request, _ *Principal) error {
		if err := a.loginCSRF(r); err != nil {
			return err
		}
		var in struct {
			MFAToken     secret `json:"mfa_token"`
			Code         secret `json:"code"`
			RecoveryCode secret `json:"recovery_code"`
		}
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		resp, err := a.VerifyMFA(r.Context(), string(in.MFAToken),
			SecondFactor{Code: string(in.Code), RecoveryCode: string(in.RecoveryCode)}, a.ClientOf(r))
		if err != nil {
			return err
		}
		a.writeTokens(w, r, http.StatusOK, resp)
		return nil
	}})
}

// ResetTOTPHandler returns the handler of DELETE /admin/users/{id}/2fa,
// for principals with the admin role (401/403 otherwise): 204 once the
// user's second factor is removed and every session of the user has ended
// ([Authenticator.ResetTOTP]); 404 not_found for an unknown id.
//
// The id is read from the request's path value "id" (ServeMux, chi), or
// else from the path segment before the last (gin and other routers).
func (a *Authenticator) ResetTOTPHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodDelete, authed: true, guarded: true, require: a.adminRequirement(),
		serve: func(w http.ResponseWriter, r *http.Request, _ *Principal) error {
			if err := a.ResetTOTP(r.Context(), pathID(r, 1)); err != nil {
				return err
			}
			noContent(w)
			return nil
		}})
}
