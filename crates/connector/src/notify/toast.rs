//! Windows toasts through WinRT (`Windows.UI.Notifications`), shown under the app's AppUserModelID.
//! Each toast is tagged with its id in one group, so a newer toast for the same account replaces it and
//! a resolved problem withdraws it from the Action Center.

use windows::core::HSTRING;
use windows::Data::Xml::Dom::XmlDocument;
use windows::UI::Notifications::{ToastNotification, ToastNotificationManager};

use super::APP_USER_MODEL_ID;

const GROUP: &str = "accounts";

fn describe(what: &str, e: &windows::core::Error) -> String {
    let code = e.code().0 as u32;
    let why = match code {
        // REGDB_E_CLASSNOTREG: no WinRT toast platform (Windows before 8, Wine, some Server cores).
        0x8004_0154 => "this system has no Windows notification platform".to_owned(),
        // E_NOTFOUND / ERROR_NOT_FOUND: Windows knows no app with our AppUserModelID.
        0x8007_0490 => format!(
            "Windows knows no app with the id {APP_USER_MODEL_ID}; it comes with the Start-menu \
             shortcut the installer creates, so reinstall Calendar Connector"
        ),
        _ => {
            let m = e.message();
            if m.trim().is_empty() {
                "Windows refused".to_owned()
            } else {
                m.trim().to_owned()
            }
        }
    };
    format!("could not {what} a Windows notification: {why} (HRESULT 0x{code:08X})")
}

/// Shows `xml` tagged `id`, replacing an earlier toast with the same tag.
pub(super) fn show(xml: &str, id: u32) -> Result<(), String> {
    let run = || -> windows::core::Result<()> {
        let doc = XmlDocument::new()?;
        doc.LoadXml(&HSTRING::from(xml))?;
        let toast = ToastNotification::CreateToastNotification(&doc)?;
        toast.SetTag(&HSTRING::from(id.to_string()))?;
        toast.SetGroup(&HSTRING::from(GROUP))?;
        ToastNotificationManager::CreateToastNotifierWithId(&HSTRING::from(APP_USER_MODEL_ID))?
            .Show(&toast)
    };
    run().map_err(|e| describe("show", &e))
}

/// Withdraws the toast tagged `id` (shown by this or an earlier process).
pub(super) fn withdraw(id: u32) -> Result<(), String> {
    let run = || -> windows::core::Result<()> {
        ToastNotificationManager::History()?.RemoveGroupedTagWithId(
            &HSTRING::from(id.to_string()),
            &HSTRING::from(GROUP),
            &HSTRING::from(APP_USER_MODEL_ID),
        )
    };
    run().map_err(|e| describe("withdraw", &e))
}
