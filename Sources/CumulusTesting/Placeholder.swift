import CumulusLog
