oms_aws::sqs_main!(marketplace::handle);
