//! The tray icon as a StatusNotifierItem (the freedesktop/KDE protocol that KDE Plasma, GNOME's
//! AppIndicator extension, XFCE, Budgie, waybar… host), spoken over D-Bus by `ksni` without GTK.
//! Same icon, tooltip and menu as the desktop app's own tray on Windows and macOS.

use connector::config::Overall;
use ksni::menu::{MenuItem, StandardItem};
use ksni::TrayMethods;

use crate::msg::{Msg, Tx};

/// The tray's state.
pub struct Tray {
    tx: Tx,
    state: Overall,
    /// The account "Relink…" opens.
    relink_for: Option<String>,
    icons: Icons,
}

/// The three icons, decoded once (ARGB32 as the protocol wants).
struct Icons {
    ok: Vec<ksni::Icon>,
    syncing: Vec<ksni::Icon>,
    relink: Vec<ksni::Icon>,
}

/// Decodes an RGBA PNG into the protocol's ARGB32 (network byte order). A broken icon gives none
/// (the host shows the title instead), never a panic.
fn decode(png_bytes: &[u8]) -> Vec<ksni::Icon> {
    let decoded = (|| {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .ok()?;
        let mut buf = vec![0; reader.output_buffer_size()?];
        let info = reader.next_frame(&mut buf).ok()?;
        if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
            return None;
        }
        let mut data = buf.get(..info.buffer_size())?.to_vec();
        for px in data.chunks_exact_mut(4) {
            px.rotate_right(1); // RGBA → ARGB
        }
        Some(ksni::Icon {
            width: i32::try_from(info.width).ok()?,
            height: i32::try_from(info.height).ok()?,
            data,
        })
    })();
    decoded.into_iter().collect()
}

impl Icons {
    fn load() -> Self {
        Icons {
            ok: decode(include_bytes!("../../../icons/tray-ok.png")),
            syncing: decode(include_bytes!("../../../icons/tray-syncing.png")),
            relink: decode(include_bytes!("../../../icons/tray-relink.png")),
        }
    }

    fn of(&self, state: Overall) -> &Vec<ksni::Icon> {
        match state {
            Overall::Ok => &self.ok,
            Overall::Syncing => &self.syncing,
            Overall::NeedsRelink => &self.relink,
        }
    }
}

impl ksni::Tray for Tray {
    fn id(&self) -> String {
        "calendar-connector".into()
    }

    fn title(&self) -> String {
        "Calendar Connector".into()
    }

    fn status(&self) -> ksni::Status {
        match self.state {
            Overall::NeedsRelink => ksni::Status::NeedsAttention,
            _ => ksni::Status::Active,
        }
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        self.icons.of(self.state).clone()
    }

    fn attention_icon_pixmap(&self) -> Vec<ksni::Icon> {
        self.icons.relink.clone()
    }

    fn tool_tip(&self) -> ksni::ToolTip {
        ksni::ToolTip {
            title: "Calendar Connector".into(),
            description: self.state.tooltip().into(),
            icon_name: String::new(),
            icon_pixmap: Vec::new(),
        }
    }

    /// A left click opens the window.
    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.tx.send(Msg::Open(None));
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        vec![
            StandardItem {
                label: self.state.tooltip().into(),
                enabled: false,
                ..Default::default()
            }
            .into(),
            MenuItem::Separator,
            StandardItem {
                label: "Open Calendar Connector".into(),
                activate: Box::new(|t: &mut Self| {
                    let _ = t.tx.send(Msg::Open(None));
                }),
                ..Default::default()
            }
            .into(),
            StandardItem {
                label: "Sync now".into(),
                activate: Box::new(|t: &mut Self| {
                    let _ = t.tx.send(Msg::SyncNow);
                }),
                ..Default::default()
            }
            .into(),
            StandardItem {
                label: "Relink…".into(),
                enabled: self.relink_for.is_some(),
                activate: Box::new(|t: &mut Self| {
                    let _ = t.tx.send(Msg::Open(t.relink_for.clone()));
                }),
                ..Default::default()
            }
            .into(),
            MenuItem::Separator,
            StandardItem {
                label: "Quit".into(),
                activate: Box::new(|t: &mut Self| {
                    let _ = t.tx.send(Msg::Quit);
                }),
                ..Default::default()
            }
            .into(),
        ]
    }

    /// No tray host yet (the session's panel starts after the agent, or there is none): stay, and
    /// register when one appears. Background sync and notifications work either way.
    fn watcher_offline(&self, reason: ksni::OfflineReason) -> bool {
        tracing::info!(
            "no tray host on this desktop right now ({reason:?}); the icon appears when one starts"
        );
        true
    }
}

/// The running tray.
pub struct TrayHandle(ksni::Handle<Tray>);

impl TrayHandle {
    /// Shows a new state (nothing is sent when it did not change).
    pub async fn show(&self, state: Overall, relink_for: Option<String>) {
        self.0
            .update(move |t: &mut Tray| {
                if t.state != state || t.relink_for != relink_for {
                    t.state = state;
                    t.relink_for = relink_for;
                }
            })
            .await;
    }

    /// Removes the icon.
    pub async fn shutdown(self) {
        self.0.shutdown().await;
    }
}

/// Puts the icon up. Without a session bus there is no tray (logged); the agent still syncs.
pub async fn spawn(tx: Tx, state: Overall, relink_for: Option<String>) -> Option<TrayHandle> {
    let tray = Tray {
        tx,
        state,
        relink_for,
        icons: Icons::load(),
    };
    match tray.assume_sni_available(true).spawn().await {
        Ok(h) => Some(TrayHandle(h)),
        Err(e) => {
            tracing::warn!("no tray icon: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icons_decode_to_argb() {
        let icons = Icons::load();
        for state in [Overall::Ok, Overall::Syncing, Overall::NeedsRelink] {
            let i = &icons.of(state)[0];
            assert_eq!((i.width, i.height), (64, 64));
            assert_eq!(i.data.len(), 64 * 64 * 4);
        }
        assert!(decode(b"not a png").is_empty());
    }
}
