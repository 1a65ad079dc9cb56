"""The classroom: one trainer drives a class of stations over MQTT, each station running its
own simulated patient. Only simulated data crosses the network.

Modules (each one job): `codes` (join codes, ids), `topics` (every topic name), `messages`
(typed, versioned, size-limited messages), `broker` (the embedded amqtt broker with the class's
login and ACL), `mosquitto` (the same rules as files for an external broker), `link` (one MQTT
connection kept up), `catchup` (the clock a restored station catches up on), `patient` (a
station's SimSource + Session), `station` (`StationCore`, `StationClient`), `trainer`
(`TrainerCore`, `TrainerNode`, the board), `record` (the class record file), `debrief` (the
class debrief). Everything here needs the `class` extra (`pip install 'oxi-assist[class]'`).
"""
