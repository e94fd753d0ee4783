// The signed-in view's two-factor panel: turning it on (the QR code and the key for the app, its
// first code, the recovery codes shown once), new recovery codes, turning it off. A change that
// needs a recent sign-in (FRESH_TOKEN_REQUIRED) asks for the password first, then reauthenticates.
import { svgFromText } from './svg-image.js';

const START = 'mutation StartTotpEnrollment { startTotpEnrollment { secret qrCodeSvg } }';
const CONFIRM = 'mutation ConfirmTotpEnrollment($code: String!) { confirmTotpEnrollment(code: $code) }';
const REGENERATE = 'mutation RegenerateRecoveryCodes($code: String!) { regenerateRecoveryCodes(code: $code) }';
const DISABLE = `mutation DisableTwoFactor($code: String, $recoveryCode: String) {
  disableTwoFactor(code: $code, recoveryCode: $recoveryCode)
}`;
// With two-factor on, a fresh token means both factors: the password and a code.
const REAUTHENTICATE = `mutation Reauthenticate($password: String!) {
  reauthenticate(password: $password) { accessToken }
}`;
const REAUTHENTICATE_WITH_CODE = `mutation Reauthenticate($password: String!, $code: String!) {
  reauthenticate(password: $password, code: $code) { accessToken }
}`;

// What an authenticator app shows; anything else typed where either is taken is a recovery code.
const APP_CODE = /^\d{6}$/;

/**
 * Wires the panel to the page. `page` gives what the panel needs of it: `callAsUser`, `run`,
 * `showStatus`, `describe`, `showAccount`, `setAccessToken` and `hasReason(error, reason)`.
 * Returns `show(twoFactorEnabled)`, called with each fresh `me`, and `reset()`, called on sign-out.
 */
export function setUpTwoFactorPanel(page) {
  const $ = (id) => document.getElementById(id);
  let enabled = false;
  /** 'idle', 'reauthenticating', 'enrolling' or 'showing-codes': the one part of the panel on show. */
  let step = 'idle';
  /** The change to run again once the password is confirmed; none when it needs a new code. */
  let retryAfterReauthentication = null;

  function render() {
    $('me-two-factor').textContent = enabled ? 'on' : 'off';
    $('start-two-factor').hidden = enabled || step !== 'idle';
    $('reauthenticate').hidden = step !== 'reauthenticating';
    $('reauth-code-label').hidden = !enabled;
    $('reauth-code').required = enabled;
    $('enrollment').hidden = step !== 'enrolling';
    $('recovery-codes').hidden = step !== 'showing-codes';
    $('two-factor-on').hidden = !enabled || step !== 'idle';
  }

  function goTo(next) {
    step = next;
    render();
  }

  /** Runs `change`; on FRESH_TOKEN_REQUIRED asks for the password, and retries if `retry`. */
  async function withRecentSignIn(change, { retry }) {
    try {
      await change();
    } catch (error) {
      if (!page.hasReason(error, 'FRESH_TOKEN_REQUIRED')) throw error;
      retryAfterReauthentication = retry ? change : null;
      goTo('reauthenticating');
      $('reauth-password').focus();
      page.showStatus(`Confirm your password to go on (${page.describe(error)})`);
    }
  }

  async function startEnrollment() {
    const { startTotpEnrollment } = await page.callAsUser(START);
    $('qr-code').replaceChildren(svgFromText(startTotpEnrollment.qrCodeSvg));
    // In groups of four, as apps show keys to type.
    $('totp-secret').textContent = startTotpEnrollment.secret.match(/.{1,4}/g).join(' ');
    goTo('enrolling');
    $('enrollment-code').focus();
    page.showStatus('Scan the QR code with your authenticator app, then enter the code it shows');
  }

  function showRecoveryCodes(codes) {
    $('recovery-code-list').replaceChildren(
      ...codes.map((code) => {
        const item = document.createElement('li');
        item.textContent = code;
        return item;
      }),
    );
    goTo('showing-codes');
  }

  $('start-two-factor').addEventListener('click', () =>
    page.run(() => withRecentSignIn(startEnrollment, { retry: true })),
  );

  $('reauthenticate').addEventListener('submit', (event) => {
    event.preventDefault();
    page.run(async () => {
      const password = $('reauth-password').value;
      const code = $('reauth-code').value.trim();
      $('reauth-password').value = '';
      $('reauth-code').value = '';
      let answer;
      try {
        answer = enabled
          ? await page.callAsUser(REAUTHENTICATE_WITH_CODE, { password, code })
          : await page.callAsUser(REAUTHENTICATE, { password });
      } catch (error) {
        // A wrong password or code keeps the form: the session itself is fine.
        if (!page.hasReason(error, 'INVALID_CREDENTIALS') && !page.hasReason(error, 'MFA_CODE_INVALID')) throw error;
        page.showStatus(page.describe(error));
        return;
      }
      page.setAccessToken(answer.reauthenticate.accessToken);
      const retry = retryAfterReauthentication;
      retryAfterReauthentication = null;
      goTo('idle');
      // A code counts once: the change the password was asked for needs the app's next one.
      if (retry) await retry();
      else page.showStatus("Confirmed: wait for your app's next code, enter it and press the button again");
    });
  });

  $('cancel-reauth').addEventListener('click', () => {
    retryAfterReauthentication = null;
    $('reauth-password').value = '';
    $('reauth-code').value = '';
    goTo('idle');
  });

  $('confirm-enrollment').addEventListener('submit', (event) => {
    event.preventDefault();
    page.run(async () => {
      const code = $('enrollment-code').value.trim();
      $('enrollment-code').value = '';
      const { confirmTotpEnrollment } = await page.callAsUser(CONFIRM, { code });
      // The key is in the app now: it leaves the page.
      $('qr-code').replaceChildren();
      $('totp-secret').textContent = '';
      enabled = true;
      showRecoveryCodes(confirmTotpEnrollment);
      page.showStatus('Two-factor is on. Save your recovery codes: they are shown only this once');
    });
  });

  $('saved-recovery-codes').addEventListener('click', () =>
    page.run(async () => {
      $('recovery-code-list').replaceChildren();
      goTo('idle');
      await page.showAccount();
    }),
  );

  $('two-factor-on').addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = $('two-factor-code').value.trim();
    $('two-factor-code').value = '';
    const change =
      event.submitter?.value === 'disable'
        ? async () => {
            await page.callAsUser(DISABLE, APP_CODE.test(typed) ? { code: typed } : { recoveryCode: typed });
            enabled = false;
            await page.showAccount();
            page.showStatus('Two-factor is off; your other sessions were signed out');
          }
        : async () => {
            const { regenerateRecoveryCodes } = await page.callAsUser(REGENERATE, { code: typed });
            showRecoveryCodes(regenerateRecoveryCodes);
            page.showStatus('New recovery codes: the old ones no longer work. Save these');
          };
    page.run(() => withRecentSignIn(change, { retry: false }));
  });

  return {
    show(twoFactorEnabled) {
      enabled = twoFactorEnabled;
      render();
    },
    reset() {
      retryAfterReauthentication = null;
      $('qr-code').replaceChildren();
      $('totp-secret').textContent = '';
      $('recovery-code-list').replaceChildren();
      enabled = false;
      goTo('idle');
    },
  };
}
