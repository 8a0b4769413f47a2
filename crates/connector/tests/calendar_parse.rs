//! Integration tests for `connector::calendar` (public API only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Wrapped in `mod calendar` so `cargo test -p connector calendar` selects these tests.
mod calendar {

    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    use chrono_tz::Tz;
    use connector::calendar::{
        occurrences, summarize, ComponentKind, OccTime, Occurrence, ParseError, MAX_OBJECT_BYTES,
        MAX_OCCURRENCES_PER_OBJECT,
    };

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ics");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
    }

    /// Wrap VEVENT/VTODO lines in a VCALENDAR with CRLF line endings.
    fn ics(body: &[&str]) -> Vec<u8> {
        let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
        for l in body {
            s.push_str(l);
            s.push_str("\r\n");
        }
        s.push_str("END:VCALENDAR\r\n");
        s.into_bytes()
    }

    fn event(lines: &[&str]) -> Vec<u8> {
        let mut body = vec!["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z"];
        body.extend_from_slice(lines);
        body.push("END:VEVENT");
        ics(&body)
    }

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn occ(raw: &[u8], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
        occurrences(raw, from, to, Tz::UTC).unwrap()
    }

    fn rfc(t: &OccTime) -> String {
        serde_json::to_value(t)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    fn starts(v: &[Occurrence]) -> Vec<String> {
        v.iter().map(|o| rfc(&o.start)).collect()
    }

    /// The object's summary window must contain every occurrence in [from, to).
    fn assert_window_covers(raw: &[u8], from: DateTime<Utc>, to: DateTime<Utc>) {
        let s = summarize(raw).unwrap();
        for o in occurrences(raw, from, to, Tz::UTC).unwrap() {
            let st = o.start.to_utc_sort_key(Tz::UTC);
            let en = o.end.to_utc_sort_key(Tz::UTC);
            assert!(
                s.window_start <= st,
                "window_start {} > occurrence {st}",
                s.window_start
            );
            if let Some(we) = s.window_end {
                assert!(we >= en, "window_end {we} < occurrence end {en}");
            }
        }
    }

    #[test]
    fn berlin_event_with_vtimezone_has_winter_offset_and_fields() {
        let raw = fixture("berlin_vtimezone.ics");
        let s = summarize(&raw).unwrap();
        assert_eq!(s.uid, "berlin-simple-1");
        assert_eq!(s.summary.as_deref(), Some("Standup Berlin"));
        assert_eq!(s.location.as_deref(), Some("Büro"));
        assert!(!s.all_day && !s.recurring);
        assert_eq!(s.component, ComponentKind::Event);
        assert_eq!(
            s.window_start,
            Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
                .unwrap()
                .timestamp()
        );
        assert_eq!(
            s.window_end,
            Some(
                Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
                    .unwrap()
                    .timestamp()
            )
        );
        let o = occ(&raw, utc(2026, 11, 1), utc(2027, 1, 1));
        assert_eq!(o.len(), 1);
        assert_eq!(rfc(&o[0].start), "2026-12-01T09:00:00+01:00");
        assert_eq!(rfc(&o[0].end), "2026-12-01T10:00:00+01:00");
        assert_eq!(o[0].recurrence_id, None);
        assert!(occ(&raw, utc(2026, 12, 2), utc(2026, 12, 3)).is_empty());
    }

    #[test]
    fn utc_event_keeps_utc_offset() {
        let raw = event(&[
            "UID:u1",
            "DTSTART:20261201T090000Z",
            "DTEND:20261201T091500Z",
            "SUMMARY:UTC",
        ]);
        let o = occ(&raw, utc(2026, 12, 1), utc(2026, 12, 2));
        assert_eq!(starts(&o), ["2026-12-01T09:00:00+00:00"]);
        assert_eq!(rfc(&o[0].end), "2026-12-01T09:15:00+00:00");
    }

    #[test]
    fn floating_time_is_read_in_the_callers_local_zone() {
        let raw = event(&["UID:f1", "DTSTART:20261201T090000", "DTEND:20261201T100000"]);
        let tokyo =
            occurrences(&raw, utc(2026, 11, 30), utc(2026, 12, 3), Tz::Asia__Tokyo).unwrap();
        assert_eq!(starts(&tokyo), ["2026-12-01T09:00:00+09:00"]);
        let ny = occurrences(
            &raw,
            utc(2026, 11, 30),
            utc(2026, 12, 3),
            Tz::America__New_York,
        )
        .unwrap();
        assert_eq!(starts(&ny), ["2026-12-01T09:00:00-05:00"]);
        assert_window_covers(&raw, utc(2026, 11, 30), utc(2026, 12, 3));
        // The conservative window still contains the instant in any zone.
        let s = summarize(&raw).unwrap();
        let tokyo_start = tokyo[0].start.to_utc_sort_key(Tz::UTC);
        let ny_start = ny[0].start.to_utc_sort_key(Tz::UTC);
        assert!(s.window_start <= tokyo_start.min(ny_start));
        assert!(s.window_end.unwrap() >= tokyo_start.max(ny_start));
    }

    #[test]
    fn all_day_single_multi_day_and_missing_dtend() {
        let single = event(&[
            "UID:a1",
            "DTSTART;VALUE=DATE:20261201",
            "DTEND;VALUE=DATE:20261202",
            "SUMMARY:Day",
        ]);
        let o = occ(&single, utc(2026, 11, 1), utc(2027, 1, 1));
        assert_eq!(o.len(), 1);
        assert!(o[0].all_day);
        assert_eq!(
            o[0].start,
            OccTime::Date(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
        );
        assert_eq!(
            o[0].end,
            OccTime::Date(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap())
        );
        assert_eq!(
            serde_json::to_string(&o[0].start).unwrap(),
            "\"2026-12-01\""
        );
        assert!(summarize(&single).unwrap().all_day);

        let multi = event(&[
            "UID:a2",
            "DTSTART;VALUE=DATE:20261201",
            "DTEND;VALUE=DATE:20261204",
        ]);
        let o = occ(&multi, utc(2026, 12, 3), utc(2026, 12, 4));
        assert_eq!(o.len(), 1, "multi-day event overlaps its last day");
        assert_eq!(rfc(&o[0].end), "2026-12-04");
        assert!(
            occ(&multi, utc(2026, 12, 4), utc(2026, 12, 5)).is_empty(),
            "end is exclusive"
        );

        let no_end = event(&["UID:a3", "DTSTART;VALUE=DATE:20261201"]);
        let o = occ(&no_end, utc(2026, 11, 1), utc(2027, 1, 1));
        assert_eq!(rfc(&o[0].end), "2026-12-02");
    }

    #[test]
    fn timed_event_without_dtend_uses_duration_or_zero_length() {
        let dur = event(&["UID:d1", "DTSTART:20261201T090000Z", "DURATION:PT1H30M"]);
        assert_eq!(
            rfc(&occ(&dur, utc(2026, 12, 1), utc(2026, 12, 2))[0].end),
            "2026-12-01T10:30:00+00:00"
        );
        let zero = event(&["UID:d2", "DTSTART:20261201T090000Z"]);
        let o = occ(&zero, utc(2026, 12, 1), utc(2026, 12, 2));
        assert_eq!(o[0].start, o[0].end);
    }

    #[test]
    fn weekly_infinite_rrule_is_expanded_in_a_window_years_later() {
        let raw = event(&[
            "UID:w1",
            "DTSTART;TZID=Europe/Berlin:20150105T090000",
            "DTEND;TZID=Europe/Berlin:20150105T100000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO,TH",
        ]);
        let s = summarize(&raw).unwrap();
        assert!(s.recurring);
        assert_eq!(s.window_end, None);
        let o = occ(&raw, utc(2030, 6, 1), utc(2030, 6, 15));
        assert_eq!(
            starts(&o),
            [
                "2030-06-03T09:00:00+02:00",
                "2030-06-06T09:00:00+02:00",
                "2030-06-10T09:00:00+02:00",
                "2030-06-13T09:00:00+02:00"
            ]
        );
        assert_eq!(
            o[0].recurrence_id.as_deref(),
            Some("2030-06-03T09:00:00+02:00")
        );
        assert_window_covers(&raw, utc(2030, 6, 1), utc(2030, 6, 15));
    }

    #[test]
    fn count_and_until_end_the_series() {
        let count = event(&[
            "UID:c1",
            "DTSTART:20260101T120000Z",
            "RRULE:FREQ=DAILY;COUNT=3",
        ]);
        let o = occ(&count, utc(2025, 1, 1), utc(2027, 1, 1));
        assert_eq!(
            starts(&o),
            [
                "2026-01-01T12:00:00+00:00",
                "2026-01-02T12:00:00+00:00",
                "2026-01-03T12:00:00+00:00"
            ]
        );
        let s = summarize(&count).unwrap();
        assert_eq!(
            s.window_end,
            Some(
                Utc.with_ymd_and_hms(2026, 1, 3, 12, 0, 0)
                    .unwrap()
                    .timestamp()
            )
        );

        let until = event(&[
            "UID:c2",
            "DTSTART;TZID=America/New_York:20260105T090000",
            "RRULE:FREQ=WEEKLY;UNTIL=20260126T140000Z",
        ]);
        let o = occ(&until, utc(2025, 1, 1), utc(2027, 1, 1));
        assert_eq!(o.len(), 4, "{:?}", starts(&o));
        assert_eq!(rfc(&o[3].start), "2026-01-26T09:00:00-05:00");
        let s = summarize(&until).unwrap();
        assert!(s.window_end.is_some());
        assert_window_covers(&until, utc(2025, 1, 1), utc(2027, 1, 1));

        let monthly = event(&[
            "UID:c3",
            "DTSTART:20260110T080000Z",
            "RRULE:FREQ=MONTHLY;BYDAY=2MO,-1FR;COUNT=4",
        ]);
        assert_eq!(
            starts(&occ(&monthly, utc(2025, 1, 1), utc(2027, 1, 1))),
            [
                "2026-01-10T08:00:00+00:00",
                "2026-01-12T08:00:00+00:00",
                "2026-01-30T08:00:00+00:00",
                "2026-02-09T08:00:00+00:00"
            ],
            "unsynchronised DTSTART counts as the first instance"
        );
    }

    #[test]
    fn exdate_removes_an_instance() {
        let raw = event(&[
            "UID:x1",
            "DTSTART:20260101T120000Z",
            "RRULE:FREQ=DAILY;COUNT=4",
            "EXDATE:20260102T120000Z,20260103T120000Z",
        ]);
        assert_eq!(
            starts(&occ(&raw, utc(2025, 1, 1), utc(2027, 1, 1))),
            ["2026-01-01T12:00:00+00:00", "2026-01-04T12:00:00+00:00"]
        );
        let all_day = event(&[
            "UID:x2",
            "DTSTART;VALUE=DATE:20260101",
            "RRULE:FREQ=DAILY;COUNT=3",
            "EXDATE;VALUE=DATE:20260102",
        ]);
        assert_eq!(
            starts(&occ(&all_day, utc(2025, 1, 1), utc(2027, 1, 1))),
            ["2026-01-01", "2026-01-03"]
        );
    }

    #[test]
    fn rdate_adds_instances() {
        let raw = event(&[
            "UID:r1",
            "DTSTART;TZID=Europe/Berlin:20260101T100000",
            "DTEND;TZID=Europe/Berlin:20260101T110000",
            "RDATE;TZID=Europe/Berlin:20260701T100000,20260801T100000",
        ]);
        let s = summarize(&raw).unwrap();
        assert!(s.recurring);
        assert_eq!(
            s.window_end,
            Some(
                Utc.with_ymd_and_hms(2026, 8, 1, 9, 0, 0)
                    .unwrap()
                    .timestamp()
            )
        );
        let o = occ(&raw, utc(2025, 1, 1), utc(2027, 1, 1));
        assert_eq!(
            starts(&o),
            [
                "2026-01-01T10:00:00+01:00",
                "2026-07-01T10:00:00+02:00",
                "2026-08-01T10:00:00+02:00"
            ]
        );
        assert_eq!(rfc(&o[1].end), "2026-07-01T11:00:00+02:00");
    }

    #[test]
    fn recurrence_id_override_moves_instance_to_another_day() {
        let raw = fixture("weekly_overrides.ics");
        let o = occ(&raw, utc(2026, 1, 10), utc(2026, 1, 17));
        assert_eq!(o.len(), 1, "{:?}", starts(&o));
        assert_eq!(rfc(&o[0].start), "2026-01-14T15:00:00+01:00");
        assert_eq!(o[0].summary.as_deref(), Some("Weekly sync (moved)"));
        assert_eq!(
            o[0].recurrence_id.as_deref(),
            Some("2026-01-12T09:00:00+01:00")
        );
    }

    #[test]
    fn cancelled_override_and_exdate_remove_instances() {
        let raw = fixture("weekly_overrides.ics");
        let o = occ(&raw, utc(2026, 1, 1), utc(2026, 2, 3));
        // Jan 5 (master), Jan 14 (moved from 12), Jan 19 EXDATE, Jan 26 cancelled, Feb 2.
        assert_eq!(
            starts(&o),
            [
                "2026-01-05T09:00:00+01:00",
                "2026-01-14T15:00:00+01:00",
                "2026-02-02T09:00:00+01:00"
            ]
        );
    }

    #[test]
    fn override_moved_out_of_and_into_a_window() {
        let raw = fixture("weekly_overrides.ics");
        // The 2026-03-02 instance was moved to 2025-06-01.
        let march = occ(&raw, utc(2026, 3, 1), utc(2026, 3, 8));
        assert!(march.is_empty(), "{:?}", starts(&march));
        let june = occ(&raw, utc(2025, 6, 1), utc(2025, 6, 2));
        assert_eq!(starts(&june), ["2025-06-01T12:00:00+02:00"]);
        assert_eq!(
            june[0].recurrence_id.as_deref(),
            Some("2026-03-02T09:00:00+01:00")
        );
        let s = summarize(&raw).unwrap();
        assert!(s.window_start <= june[0].start.to_utc_sort_key(Tz::UTC));
        assert_eq!(s.window_end, None);
    }

    #[test]
    fn weekly_berlin_event_stays_at_0900_local_across_dst() {
        let raw = event(&[
            "UID:dst1",
            "DTSTART;TZID=Europe/Berlin:20260316T090000",
            "DTEND;TZID=Europe/Berlin:20260316T100000",
            "RRULE:FREQ=WEEKLY",
        ]);
        let o = occ(&raw, utc(2026, 3, 15), utc(2026, 4, 7));
        assert_eq!(
            starts(&o),
            [
                "2026-03-16T09:00:00+01:00",
                "2026-03-23T09:00:00+01:00",
                "2026-03-30T09:00:00+02:00",
                "2026-04-06T09:00:00+02:00"
            ]
        );
        assert_eq!(rfc(&o[2].end), "2026-03-30T10:00:00+02:00");
    }

    #[test]
    fn windows_tzid_names_map_to_iana() {
        for (name, expect) in [
            ("W. Europe Standard Time", "2026-12-01T09:00:00+01:00"),
            ("Eastern Standard Time", "2026-12-01T09:00:00-05:00"),
            ("Pacific Standard Time", "2026-12-01T09:00:00-08:00"),
            ("Tokyo Standard Time", "2026-12-01T09:00:00+09:00"),
        ] {
            let dtstart = format!("DTSTART;TZID=\"{name}\":20261201T090000");
            let raw = event(&["UID:win", &dtstart]);
            let o = occ(&raw, utc(2026, 11, 30), utc(2026, 12, 3));
            assert_eq!(starts(&o), [expect], "{name}");
        }
    }

    #[test]
    fn prefixed_tzids_resolve_to_their_trailing_area_city() {
        for tzid in [
            "/mozilla.org/20050126_1/Europe/Berlin",
            "/freeassociation.sourceforge.net/Tzfile/Europe/Berlin",
        ] {
            let dtstart = format!("DTSTART;TZID={tzid}:20260701T090000");
            let raw = event(&["UID:moz", &dtstart]);
            assert_eq!(
                starts(&occ(&raw, utc(2026, 6, 30), utc(2026, 7, 3))),
                ["2026-07-01T09:00:00+02:00"],
                "{tzid}"
            );
        }
    }

    #[test]
    fn gmt_minus_0400_tzid_is_a_fixed_offset() {
        let raw = event(&[
            "UID:gmt",
            "DTSTART;TZID=GMT-0400:20261201T090000",
            "DTEND;TZID=GMT-0400:20261201T100000",
        ]);
        assert_eq!(
            starts(&occ(&raw, utc(2026, 11, 30), utc(2026, 12, 3))),
            ["2026-12-01T09:00:00-04:00"]
        );
    }

    #[test]
    fn unknown_tzid_uses_object_vtimezone_offsets() {
        let raw = fixture("custom_vtimezone.ics");
        let o = occ(&raw, utc(2026, 1, 1), utc(2027, 1, 1));
        assert_eq!(
            starts(&o),
            ["2026-01-15T09:00:00+01:00", "2026-07-15T09:00:00+02:00"]
        );
    }

    #[test]
    fn unknown_tzid_without_vtimezone_is_treated_as_floating() {
        let raw = event(&["UID:unk", "DTSTART;TZID=Mars/Olympus_Mons:20261201T090000"]);
        assert!(summarize(&raw).is_ok());
        let o = occurrences(&raw, utc(2026, 11, 30), utc(2026, 12, 3), Tz::Europe__Paris).unwrap();
        assert_eq!(starts(&o), ["2026-12-01T09:00:00+01:00"]);
    }

    #[test]
    fn non_ascii_summary_survives_and_invalid_utf8_decodes_lossily() {
        let raw = event(&[
            "UID:na",
            "DTSTART:20261201T090000Z",
            "SUMMARY:Grüße 日本 🎉",
        ]);
        assert_eq!(
            summarize(&raw).unwrap().summary.as_deref(),
            Some("Grüße 日本 🎉")
        );
        let mut bad = event(&["UID:bad", "DTSTART:20261201T090000Z", "SUMMARY:caf@ ok"]);
        let pos = bad.windows(4).position(|w| w == b"caf@").unwrap() + 3;
        bad[pos] = 0xE9; // Latin-1 "é": invalid UTF-8
        let s = summarize(&bad).unwrap();
        assert_eq!(s.summary.as_deref(), Some("caf\u{FFFD} ok"));
    }

    #[test]
    fn folded_line_split_inside_a_utf8_sequence_is_rejoined() {
        let mut raw = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:fold\r\nDTSTART:20261201T090000Z\r\nSUMMARY:Gr\xC3".to_vec();
        raw.extend_from_slice(b"\r\n \xBC\xC3\r\n\t\x9Fe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
        assert_eq!(summarize(&raw).unwrap().summary.as_deref(), Some("Grüße"));
        // LF-only files work too.
        let lf: Vec<u8> = raw.iter().copied().filter(|b| *b != b'\r').collect();
        assert_eq!(summarize(&lf).unwrap().summary.as_deref(), Some("Grüße"));
    }

    #[test]
    fn icloud_quirks_fixture_parses() {
        // Duplicate DTSTAMP, huge folded X-APPLE-STRUCTURED-LOCATION, binary plist
        // X-APPLE-STRUCTURED-DATA (base64 and raw), TZID=GMT-0400, ACTION:NONE alarm
        // with a 1976 trigger, RELATED-TO;RELTYPE=X-CALENDARSERVER-RECURRENCE-SET.
        let raw = fixture("icloud_quirks.ics");
        let s = summarize(&raw).unwrap();
        assert_eq!(s.uid, "icloud-quirks-1");
        assert_eq!(s.summary.as_deref(), Some("Café meeting 日本語 ✓"));
        assert_eq!(s.location.as_deref(), Some("Straße 1, München"));
        let o = occ(&raw, utc(2026, 11, 1), utc(2027, 1, 1));
        assert_eq!(starts(&o), ["2026-12-01T09:00:00-04:00"]);
        assert_eq!(rfc(&o[0].end), "2026-12-01T10:00:00-04:00");
        // The 1976 alarm trigger must not widen the window.
        assert!(s.window_start > utc(2026, 1, 1).timestamp());
    }

    #[test]
    fn lax_date_values_are_understood() {
        // VALUE=DATE with a time part → the date.
        let raw = event(&["UID:lax1", "DTSTART;VALUE=DATE:20261201T090000"]);
        let o = occ(&raw, utc(2026, 11, 1), utc(2027, 1, 1));
        assert_eq!(o.len(), 1);
        assert!(o[0].all_day);
        assert_eq!(rfc(&o[0].start), "2026-12-01");
        // A bare date without VALUE=DATE → all-day.
        let raw = event(&["UID:lax2", "DTSTART:20261201", "DTEND:20261203"]);
        let o = occ(&raw, utc(2026, 11, 1), utc(2027, 1, 1));
        assert!(o[0].all_day);
        assert_eq!(rfc(&o[0].end), "2026-12-03");
        // A DATE-TIME RECURRENCE-ID on an all-day series still matches.
        let raw = ics(&[
            "BEGIN:VEVENT",
            "UID:lax3",
            "DTSTART;VALUE=DATE:20261201",
            "RRULE:FREQ=DAILY;COUNT=3",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:lax3",
            "RECURRENCE-ID:20261202T000000",
            "DTSTART;VALUE=DATE:20261210",
            "SUMMARY:moved",
            "END:VEVENT",
        ]);
        assert_eq!(
            starts(&occ(&raw, utc(2026, 11, 1), utc(2027, 1, 1))),
            ["2026-12-01", "2026-12-03", "2026-12-10"]
        );
    }

    #[test]
    fn structural_problems_give_specific_errors() {
        let only_tz = ics(&["BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "END:VTIMEZONE"]);
        assert_eq!(summarize(&only_tz), Err(ParseError::NoComponent));
        assert_eq!(
            occurrences(&only_tz, utc(2026, 1, 1), utc(2027, 1, 1), Tz::UTC),
            Err(ParseError::NoComponent)
        );

        let no_uid = event(&["DTSTART:20261201T090000Z"]);
        assert_eq!(summarize(&no_uid), Err(ParseError::MissingUid));

        let no_start = event(&["UID:nostart", "SUMMARY:x"]);
        assert_eq!(
            summarize(&no_start),
            Err(ParseError::MissingDtstart {
                uid: "nostart".into()
            })
        );

        let garbage = event(&["UID:garbage", "DTSTART:next tuesday"]);
        assert_eq!(
            summarize(&garbage),
            Err(ParseError::InvalidDate {
                property: "DTSTART".into(),
                value: "next tuesday".into()
            })
        );
        let bad_month = event(&["UID:badmonth", "DTSTART:20261399T090000Z"]);
        assert!(
            matches!(summarize(&bad_month), Err(ParseError::InvalidDate { ref property, .. }) if property == "DTSTART")
        );

        assert!(matches!(
            summarize(b"hello world"),
            Err(ParseError::Unparseable { .. })
        ));
        assert!(matches!(
            summarize(b""),
            Err(ParseError::Unparseable { .. })
        ));

        let mut huge = event(&["UID:huge", "DTSTART:20261201T090000Z"]);
        huge.resize(MAX_OBJECT_BYTES + 1, b' ');
        assert_eq!(
            summarize(&huge),
            Err(ParseError::TooLarge {
                bytes: MAX_OBJECT_BYTES + 1
            })
        );
        // Messages are user-facing.
        assert_eq!(
            ParseError::MissingDtstart { uid: "a".into() }.to_string(),
            "event a has no start date (DTSTART)"
        );
    }

    #[test]
    fn vtodo_only_object_is_a_todo_with_no_occurrences() {
        let raw = fixture("todo.ics");
        let s = summarize(&raw).unwrap();
        assert_eq!(s.component, ComponentKind::Todo);
        assert_eq!(s.uid, "todo-1");
        assert_eq!(s.summary.as_deref(), Some("Buy milk"));
        assert!(occurrences(&raw, utc(2000, 1, 1), utc(2100, 1, 1), Tz::UTC)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn secondly_infinite_rule_is_capped() {
        let raw = event(&["UID:sec", "DTSTART:20150101T000000Z", "RRULE:FREQ=SECONDLY"]);
        let o = occ(&raw, utc(2030, 1, 1), utc(2031, 1, 1));
        assert!(!o.is_empty());
        assert!(o.len() <= MAX_OCCURRENCES_PER_OBJECT);
        assert_eq!(rfc(&o[0].start), "2030-01-01T00:00:00+00:00");
        let minutely = event(&[
            "UID:min",
            "DTSTART:20150101T000000Z",
            "RRULE:FREQ=MINUTELY;BYMONTH=2",
        ]);
        let o = occ(&minutely, utc(2030, 3, 1), utc(2031, 3, 1));
        assert!(!o.is_empty() && o.len() <= MAX_OCCURRENCES_PER_OBJECT);
        assert!(rfc(&o[0].start).starts_with("2031-02-01T00:00"));
        // A huge COUNT does not make summarize iterate for ever; bounds stay conservative.
        let counted = event(&[
            "UID:cnt",
            "DTSTART:20150101T000000Z",
            "RRULE:FREQ=SECONDLY;COUNT=4000000000",
        ]);
        assert_eq!(summarize(&counted).unwrap().window_end, None);
    }

    #[test]
    fn yearly_and_monthly_rules_with_bysetpos_and_bymonthday() {
        let last_workday = event(&[
            "UID:sp",
            "DTSTART;TZID=Europe/Berlin:20260130T170000",
            "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        ]);
        assert_eq!(
            starts(&occ(&last_workday, utc(2026, 2, 1), utc(2026, 4, 1))),
            ["2026-02-27T17:00:00+01:00", "2026-03-31T17:00:00+02:00"]
        );
        let birthday = event(&["UID:bd", "DTSTART;VALUE=DATE:19900315", "RRULE:FREQ=YEARLY"]);
        assert_eq!(
            starts(&occ(&birthday, utc(2031, 1, 1), utc(2032, 1, 1))),
            ["2031-03-15"]
        );
        let md = event(&[
            "UID:md",
            "DTSTART:20260101T080000Z",
            "RRULE:FREQ=MONTHLY;BYMONTHDAY=1,-1;BYMONTH=2",
        ]);
        assert_eq!(
            starts(&occ(&md, utc(2026, 1, 2), utc(2027, 1, 1))),
            ["2026-02-01T08:00:00+00:00", "2026-02-28T08:00:00+00:00"]
        );
    }

    #[test]
    fn our_expansion_agrees_with_calcard_for_finite_rules() {
        use calcard::icalendar::ICalendar;
        // DTSTARTs are synchronised with their rules: calcard (unlike RFC 5545
        // and us) does not count an unsynchronised DTSTART as an instance.
        let rules = [
            ("FREQ=DAILY;COUNT=20", "20260105T090000"),
            ("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=30", "20260105T090000"),
            (
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=25",
                "20260106T090000",
            ),
            ("FREQ=MONTHLY;BYDAY=2MO;COUNT=15", "20260112T090000"),
            ("FREQ=MONTHLY;BYDAY=-1FR;COUNT=15", "20260130T090000"),
            ("FREQ=MONTHLY;BYMONTHDAY=15,-1;COUNT=20", "20260115T090000"),
            (
                "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=12",
                "20260130T090000",
            ),
            (
                "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU;COUNT=10",
                "20260329T090000",
            ),
            (
                "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=8",
                "20261126T090000",
            ),
            (
                "FREQ=DAILY;BYHOUR=9,15;BYMINUTE=0,30;COUNT=40",
                "20260105T090000",
            ),
            ("FREQ=HOURLY;INTERVAL=5;COUNT=50", "20260105T090000"),
            ("FREQ=WEEKLY;UNTIL=20261231T235959Z", "20260105T090000"),
            (
                "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO;COUNT=5",
                "20260511T090000",
            ),
            ("FREQ=YEARLY;BYYEARDAY=100,200;COUNT=6", "20260410T090000"),
        ];
        for (rule, dtstart) in rules {
            let rrule = format!("RRULE:{rule}");
            let dtstart = format!("DTSTART;TZID=Europe/Berlin:{dtstart}");
            let raw = event(&["UID:cmp", &dtstart, &rrule]);
            let ours: Vec<i64> = occ(&raw, utc(2000, 1, 1), utc(2100, 1, 1))
                .iter()
                .map(|o| o.start.to_utc_sort_key(Tz::UTC))
                .collect();
            let text = String::from_utf8(raw.clone()).unwrap();
            let ical = ICalendar::parse(&text).unwrap();
            let expanded = ical.expand_dates(Tz::UTC, 10_000);
            assert!(expanded.errors.is_empty(), "{rule}: {:?}", expanded.errors);
            let mut theirs: Vec<i64> = expanded
                .events
                .iter()
                .map(|e| e.start.timestamp())
                .collect();
            theirs.sort_unstable();
            assert_eq!(ours, theirs, "{rule}");
        }
    }

    #[test]
    fn occurrence_serializes_with_rfc3339_and_dates() {
        let raw = event(&[
            "UID:ser",
            "DTSTART;TZID=Europe/Berlin:20261201T090000",
            "SUMMARY:S",
        ]);
        let o = occ(&raw, utc(2026, 12, 1), utc(2026, 12, 2));
        let v = serde_json::to_value(&o[0]).unwrap();
        assert_eq!(v["start"], "2026-12-01T09:00:00+01:00");
        assert_eq!(v["uid"], "ser");
        assert_eq!(v["all_day"], false);
        assert_eq!(v["recurrence_id"], serde_json::Value::Null);
    }

    /// xorshift64*: deterministic, dependency-free.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    #[test]
    fn mutated_and_truncated_fixtures_never_panic() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
            .unwrap()
            .map(|e| e.unwrap().path().display().to_string())
            .filter(|p| p.ends_with(".ics"))
            .collect();
        names.sort();
        let mut sources: Vec<Vec<u8>> = names.iter().map(|p| std::fs::read(p).unwrap()).collect();
        sources.push(event(&[
            "UID:fz",
            "DTSTART;TZID=Europe/Berlin:20260105T090000",
            "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;INTERVAL=2",
            "EXDATE:20260130T080000Z",
            "RDATE;VALUE=PERIOD:20260301T090000Z/PT1H",
        ]));
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for src in &sources {
            let mut cut = 0;
            while cut < src.len() {
                inputs.push(src[..cut].to_vec());
                cut += 97;
            }
            for _ in 0..150 {
                let mut m = src.clone();
                let flips = 1 + (rng.next() % 8) as usize;
                for _ in 0..flips {
                    let i = (rng.next() as usize) % m.len();
                    match rng.next() % 4 {
                        0 => m[i] = rng.next() as u8,
                        1 => m[i] ^= 1 << (rng.next() % 8),
                        2 => m[i] = b"0123456789:;=,-TZ\r\n "[(rng.next() % 20) as usize],
                        _ => {
                            m.remove(i);
                        }
                    }
                    if m.is_empty() {
                        break;
                    }
                }
                inputs.push(m);
            }
        }
        assert!(inputs.len() > 500);
        for input in &inputs {
            let _ = summarize(input);
            for local in [Tz::UTC, Tz::Pacific__Kiritimati] {
                if let Ok(v) = occurrences(input, utc(2025, 1, 1), utc(2027, 1, 1), local) {
                    assert!(v.len() <= MAX_OCCURRENCES_PER_OBJECT);
                }
            }
        }
    }
}

/// Deviations common clients accept (issue: one odd line never stops a calendar).
mod calendar_tolerance {
    use connector::calendar::summarize;

    fn crlf(lines: &[&str]) -> Vec<u8> {
        let mut s = String::new();
        for l in lines {
            s.push_str(l);
            s.push_str("\r\n");
        }
        s.into_bytes()
    }

    #[test]
    fn blanks_after_component_boundaries_and_lowercase_names_are_read() {
        let raw = crlf(&[
            "BEGIN:VCALENDAR ",
            "VERSION:2.0",
            "PRODID:-//test//EN",
            "BEGIN:VEVENT \t",
            "uid:lower@example.com",
            "dtstamp:20260101T000000Z",
            "dtstart:20261201T090000Z",
            "dtend:20261201T100000Z",
            "summary:Lowercase names",
            "end:vevent",
            "END:VCALENDAR\t",
        ]);
        let s = summarize(&raw).unwrap();
        assert_eq!(s.uid, "lower@example.com");
        assert_eq!(s.summary.as_deref(), Some("Lowercase names"));
    }

    #[test]
    fn quarantine_messages_say_what_is_wrong() {
        let no_vcalendar = crlf(&["BEGIN:VEVENT", "UID:x", "END:VEVENT"]);
        let e = summarize(&no_vcalendar).unwrap_err().to_string();
        assert!(e.contains("no start date (DTSTART)"), "{e}");
        let empty = crlf(&["BEGIN:VCALENDAR", "VERSION:2.0", "END:VCALENDAR"]);
        let e = summarize(&empty).unwrap_err().to_string();
        assert!(e.contains("no VEVENT or VTODO"), "{e}");
        let e = summarize(b"").unwrap_err().to_string();
        assert!(e.contains("VCALENDAR"), "{e}");
    }
}
