kafka-broker_PKGS := rdkafka
