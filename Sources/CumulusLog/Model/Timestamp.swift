public import struct Foundation.Date

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant, in whole microseconds since 1970-01-01T00:00:00Z (UTC).
///
/// The log stores instants as integers so that what is read back is exactly what was written;
/// `Date` (a `Double`) would round. The text form is ISO 8601 in UTC: `2026-11-20T08:15:00.250Z`.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since the Unix epoch.
    public var microsecondsSinceEpoch: Int64

    /// Wraps a count of microseconds since the Unix epoch.
    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

    /// Converts a `Date`, rounding to the nearest microsecond.
    public init(_ date: Date) {
        self.microsecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The current time from the system clock.
    public static var now: Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microsecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }

    /// The same instant as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(microsecondsSinceEpoch) / 1_000_000) }

    /// This instant moved by a number of seconds.
    public func adding(seconds: Double) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: microsecondsSinceEpoch + Int64((seconds * 1_000_000).rounded()))
    }

    /// Seconds from `other` to this instant.
    public func seconds(since other: Timestamp) -> Double {
        Double(microsecondsSinceEpoch - other.microsecondsSinceEpoch) / 1_000_000
    }

    /// Orders instants in time.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// ISO 8601 in UTC with as many fraction digits as needed (none, 3 or 6).
    public var description: String { iso8601 }

    /// The days since 1970-01-01, the second of that day and the microseconds of that second, all in UTC.
    private var split: (days: Int64, secondOfDay: Int64, fraction: Int64) {
        let micros = microsecondsSinceEpoch
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        return (days, secondOfDay, fraction)
    }

    /// The instant's date (proleptic Gregorian) and time of day in UTC, to the second.
    public var utcParts: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let (days, secondOfDay, _) = split
        let (year, month, day) = Self.civil(fromDays: days)
        return (
            Int(year), Int(month), Int(day), Int(secondOfDay / 3600), Int(secondOfDay / 60 % 60),
            Int(secondOfDay % 60)
        )
    }

    /// ISO 8601 in UTC: `2026-11-20T08:15:00Z`, `…:00.250Z` or `…:00.250125Z`.
    public var iso8601: String {
        let (days, secondOfDay, fraction) = split
        let (year, month, day) = Self.civil(fromDays: days)
        var text = Self.pad(year, 4) + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2) + "T"
        text += Self.pad(secondOfDay / 3600, 2) + ":" + Self.pad(secondOfDay / 60 % 60, 2) + ":"
        text += Self.pad(secondOfDay % 60, 2)
        if fraction != 0 {
            text += fraction % 1000 == 0 ? "." + Self.pad(fraction / 1000, 3) : "." + Self.pad(fraction, 6)
        }
        return text + "Z"
    }

    /// Parses ISO 8601 with a date, `T`, a time, an optional fraction (up to 6 digits: microseconds) and a
    /// zone `Z` or `±HH:MM`; for example `2026-11-20T08:15:00Z`. `nil` for anything else (see
    /// ``parse(iso8601:)`` for the reason).
    public init?(iso8601 text: String) {
        guard let parsed = try? Self.parse(iso8601: text) else { return nil }
        self = parsed
    }

    /// Parses ISO 8601 like ``init(iso8601:)``, saying exactly what is wrong when it fails.
    ///
    /// Refused: a year before 0001, a space (or anything but `T`) between date and time, second 60 (no leap
    /// seconds: they would roll into the next minute), more than 6 fraction digits (they would be dropped).
    /// - Throws: ``TimestampFormatError`` naming the part that is wrong.
    public static func parse(iso8601 text: String) throws(TimestampFormatError) -> Timestamp {
        let bytes = Array(text.utf8)
        var index = 0
        let example = "an ISO 8601 time such as 2026-11-20T08:00:00Z"
        func fail(_ reason: String) -> TimestampFormatError { TimestampFormatError(reason: reason) }
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
                index += 1
            }
            return value
        }
        func expect(_ character: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(0x2D), let month = number(2), expect(0x2D), let day = number(2) else {
            throw fail("not \(example): the date must be YYYY-MM-DD")
        }
        guard year >= 1 else { throw fail("year 0000 does not exist: the year must be 0001 or later") }
        guard (1...12).contains(month) else { throw fail("month \(pad(month, 2)) does not exist (01–12)") }
        guard day >= 1, day <= Self.daysIn(month: month, year: year) else {
            throw fail("day \(pad(day, 2)) does not exist in \(pad(year, 4))-\(pad(month, 2))")
        }
        guard index < bytes.count else { throw fail("not \(example): the time is missing") }
        guard bytes[index] == 0x54 || bytes[index] == 0x74 else {
            throw fail(
                bytes[index] == 0x20
                    ? "date and time must be separated by `T`, not a space"
                    : "not \(example): date and time must be separated by `T`")
        }
        index += 1
        guard let hour = number(2), expect(0x3A), let minute = number(2), expect(0x3A), let second = number(2)
        else { throw fail("not \(example): the time must be hh:mm:ss") }
        guard hour < 24 else { throw fail("hour \(pad(hour, 2)) does not exist (00–23)") }
        guard minute < 60 else { throw fail("minute \(pad(minute, 2)) does not exist (00–59)") }
        guard second < 60 else { throw fail("second \(pad(second, 2)) does not exist (00–59; no leap seconds)") }
        var micros: Int64 = 0
        if index < bytes.count && (bytes[index] == 0x2E || bytes[index] == 0x2C) {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                micros = micros * 10 + Int64(bytes[index] - 0x30)
                digits += 1
                index += 1
                guard digits <= 6 else {
                    throw fail("at most 6 fraction digits (microseconds) are allowed, not \(digits) or more")
                }
            }
            guard digits > 0 else { throw fail("not \(example): a fraction needs at least one digit") }
            for _ in digits..<6 { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if expect(0x5A) || expect(0x7A) {
            offsetSeconds = 0
        } else if index < bytes.count && (bytes[index] == 0x2B || bytes[index] == 0x2D) {
            let sign: Int64 = bytes[index] == 0x2D ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(0x3A), let offsetMinutes = number(2), offsetHours < 24,
                offsetMinutes < 60
            else { throw fail("not \(example): the zone offset must be ±hh:mm") }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            throw fail("not \(example): the zone (`Z` or ±hh:mm) is missing")
        }
        guard index == bytes.count else { throw fail("not \(example): text follows the zone") }
        let days = Self.days(fromCivil: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + micros)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days-from-civil algorithms: exact for the proleptic Gregorian calendar.
    private static func days(fromCivil year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Why a text is not an ISO 8601 time Cumulus accepts.
public struct TimestampFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, e.g. `second 60 does not exist (00–59; no leap seconds)`.
    public let reason: String

    /// Wraps a reason.
    public init(reason: String) { self.reason = reason }

    /// The reason.
    public var description: String { reason }
}
